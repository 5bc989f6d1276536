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

    # --- vocabulary look-ups (aliases resolve to the canonical name; raw values are never rewritten) ---

    def level1_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    def canonical_level1(self, value: str | None) -> str | None:
        """The profile's name for a level-1 value, or None when the value is not in the vocabulary."""
        if not value:
            return None
        for lv in self.levels:
            if value == lv.name or value in lv.aliases:
                return lv.name
        return None

    def level2_names(self, level1: str | None = None) -> list[str]:
        groups = self.levels if level1 is None else [lv for lv in self.levels if lv.name == level1]
        return [l2.name for lv in groups for l2 in lv.level2]

    def canonical_level2(self, value: str | None) -> tuple[str, str] | None:
        """(level1, level2) canonical names for a level-2 value, or None when unknown."""
        if not value:
            return None
        for lv in self.levels:
            for l2 in lv.level2:
                if value == l2.name or value in l2.aliases:
                    return lv.name, l2.name
        return None

    def all_level1_spellings(self) -> set[str]:
        return {s for lv in self.levels for s in (lv.name, *lv.aliases)}

    def all_level2_spellings(self) -> set[str]:
        return {s for lv in self.levels for l2 in lv.level2 for s in (l2.name, *l2.aliases)}


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
