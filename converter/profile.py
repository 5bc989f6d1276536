"""Form profiles: the vocabularies, closed lists and thresholds of one version of the form.

Profiles are data files (``converter/profiles/<name>.json``) so that a new year's form is a new file, not
new code. Everything that needs a vocabulary (rules, readers, the template, the add-in) asks this module.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field


class Level2(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    aliases: tuple[str, ...] = ()


class Level1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    aliases: tuple[str, ...] = ()
    level2: tuple[Level2, ...]


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    satisfaction_min_percent: float = 80
    budget_rate_min_percent: float = 90
    date_years_around: int = 1
    indicator_name_max_chars: int = 100


class Lists(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    category: tuple[str, ...] = ()
    performance_type: tuple[str, ...] = ()
    yes_no: tuple[str, ...] = ("是", "否")


_INDEXES: dict[str, tuple[Profile, dict[str, str], dict[str, tuple[str, str]]]] = {}


class Profile(BaseModel):
    """One version of the form. Lists here are the single source for rules, template and add-in."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    title: str
    year: int | None = None
    sources: tuple[str, ...] = ()
    levels: tuple[Level1, ...]
    required_groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    lists: Lists = Lists()
    required_fields: tuple[str, ...] = ()
    recommended_fields: tuple[str, ...] = ()
    qualitative_values: tuple[str, ...] = ()
    thresholds: Thresholds = Thresholds()

    def _index(self) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """Every spelling of every level, indexed once per profile: the rules look levels up for every
        indicator of every file (kept outside the model: pydantic's private attributes are slow to reach)."""
        found = _INDEXES.get(self.name)
        if found is None or found[0] is not self:
            level1: dict[str, str] = {}
            level2: dict[str, tuple[str, str]] = {}
            for lv in self.levels:
                for spelling in (lv.name, *lv.aliases):
                    level1.setdefault(spelling, lv.name)
                for l2 in lv.level2:
                    for spelling in (l2.name, *l2.aliases):
                        level2.setdefault(spelling, (lv.name, l2.name))
            found = _INDEXES[self.name] = (self, level1, level2)
        return found[1], found[2]

    # --- vocabulary look-ups (aliases resolve to the canonical name; raw values are never rewritten) ---

    def level1_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    def canonical_level1(self, value: str | None) -> str | None:
        """The profile's name for a level-1 value, or None when the value is not in the vocabulary."""
        return self._index()[0].get(value) if value else None

    def level2_names(self, level1: str | None = None) -> list[str]:
        groups = self.levels if level1 is None else [lv for lv in self.levels if lv.name == level1]
        return [l2.name for lv in groups for l2 in lv.level2]

    def canonical_level2(self, value: str | None) -> tuple[str, str] | None:
        """(level1, level2) canonical names for a level-2 value, or None when unknown."""
        return self._index()[1].get(value) if value else None

    def all_level1_spellings(self) -> set[str]:
        return set(self._index()[0])

    def all_level2_spellings(self) -> set[str]:
        return set(self._index()[1])


@cache
def profile_names() -> list[str]:
    """Every profile shipped in ``converter/profiles``; adding a profile is adding a file there."""
    folder = resources.files("converter") / "profiles"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


class UnknownProfileError(KeyError):
    """Raised for a profile name with no file behind it."""


@cache
def load_profile(name: str) -> Profile:
    if name not in profile_names():
        raise UnknownProfileError(name)
    text = (resources.files("converter") / "profiles" / f"{name}.json").read_text(encoding="utf-8")
    return Profile.model_validate(json.loads(text))


DEFAULT_PROFILE = "shanghai-2020"
