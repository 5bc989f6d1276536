"""Form profiles: the vocabularies, closed lists and thresholds of one version of the form.

Profiles are data files (``converter/profiles/<name>.json``) so that a new year's form is a new file, not
new code. Everything that needs a vocabulary (rules, readers, the template, the add-in) asks this module.
"""

from __future__ import annotations

import json
import os
import re
import types
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from .fields import COLUMNS, HEADER, INDICATOR_PREFIX
from .model import NO, YES, Kind, Period
from .profile_files import DEFAULT_PROFILE as DEFAULT_PROFILE  # the names live there, light for the command line
from .profile_files import PROFILES_DIR
from .profile_files import profile_names as profile_names
from .profile_files import unknown_profile as unknown_profile

MoneyUnit = Literal["元", "万元"]
_UNIT_SUFFIX = re.compile(r"\s*[（(]\s*(?:万?元)\s*[)）]\s*$")


# What one unit a form may print is worth in 元 (the model's unit). Every conversion goes through these, in Decimal.
MONEY_FACTOR: dict[str, Decimal] = {"元": Decimal(1), "万元": Decimal(10_000)}


def in_unit(amount: Decimal, unit: MoneyUnit) -> Decimal:
    """An amount in 元 expressed in ``unit``, exactly (123456.78 元 → 12.345678 万元)."""
    return amount / MONEY_FACTOR[unit] if unit != "元" else amount


def money_places(unit: MoneyUnit) -> int:
    """Decimal places an amount of 分 precision needs in ``unit`` (2 in 元, 6 in 万元)."""
    exponent = MONEY_FACTOR[unit].normalize().as_tuple().exponent
    return 2 + (exponent if isinstance(exponent, int) else 0)


def strip_unit(label: str) -> str:
    """A money label without its unit: 项目总预算（元） → 项目总预算."""
    return _UNIT_SUFFIX.sub("", label)


def unit_of_label(label: str) -> MoneyUnit | None:
    """The unit a money label states (项目总预算（万元） → 万元), or None."""
    m = _UNIT_SUFFIX.search(label)
    if m is None:
        return None
    return "万元" if "万" in m.group() else "元"


@dataclass(frozen=True, kw_only=True)
class Level2:
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Level1:
    name: str
    aliases: tuple[str, ...] = ()
    level2: tuple[Level2, ...]


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    satisfaction_min_percent: float = 80
    budget_rate_min_percent: float = 90
    date_years_around: int = 1
    indicator_name_max_chars: int = 100


@dataclass(frozen=True, kw_only=True)
class Lists:
    """The closed lists a form's CHOICE and FLAG fields take their values from (``Meta.choices`` names one)."""

    category: tuple[str, ...] = ()
    performance_type: tuple[str, ...] = ()
    yes_no: tuple[str, ...] = (YES, NO)
    attribute: tuple[str, ...] = ("新增", "延续")
    comparator: tuple[str, ...] = ("≥", "≤", "＝", "＞", "＜", "定性")
    direction: tuple[str, ...] = ("正向", "反向")
    # Lists that are complete by nature: a value outside them is impossible (a stop in the template); the others
    # change between years (a warning).
    CLOSED: ClassVar[frozenset[str]] = frozenset({"yes_no", "attribute", "comparator", "direction"})


@dataclass(frozen=True, kw_only=True)
class Column:
    """One column of the indicator table: the Indicator key it holds and, if the form prints another, its heading."""

    key: str
    label: str | None = None


@dataclass(frozen=True, kw_only=True)
class Table:
    """The indicator table: its columns, left to right, and whether the form keeps long-term and annual tables."""

    columns: tuple[Column, ...]
    periods: tuple[Period, ...] = ()  # empty: one table whose rows carry no period
    headings: dict[str, str] = field(default_factory=dict)  # period → the heading printed above its table
    rows: int = 60  # blank rows per table in the template


@dataclass(frozen=True, kw_only=True)
class Form:
    """How the form is printed: title, header rows, labels, money unit, section headings, table and footer."""

    title: str
    title_patterns: tuple[str, ...]  # regular expressions over the normalised title text
    money_unit: MoneyUnit = "元"
    rows: tuple[tuple[str, ...], ...]  # one or two field paths a row; "@section" rows print a heading
    labels: dict[str, str] = field(default_factory=dict)  # path → the label this form prints
    spellings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # path → more labels met on such forms
    sections: dict[str, str] = field(default_factory=dict)  # "@budget" → heading
    table: Table
    footer: tuple[str, ...] = ()


_INDEXES: dict[str, tuple[Profile, dict[str, str], dict[str, tuple[str, str]]]] = {}


@dataclass(frozen=True, kw_only=True)
class Profile:
    """One version of the form. Lists here are the single source for rules, template and add-in."""

    name: str
    title: str
    # The budget years this form is declared for (either end open): tells a form from its successor when the
    # layouts alike (national 88号 before 2022, the 101号 framework after).
    years: tuple[int | None, int | None] = (None, None)
    sources: tuple[str, ...] = ()
    levels: tuple[Level1, ...]
    required_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lists: Lists = field(default_factory=Lists)
    required_fields: tuple[str, ...] = ()
    recommended_fields: tuple[str, ...] = ()
    qualitative_values: tuple[str, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    form: Form
    rule_sources: dict[str, str] = field(default_factory=dict)  # rule code → the source it rests on in this form
    notes: tuple[str, ...] = ()  # what of this profile was confirmed from official text, and what was not

    @property
    def money_unit(self) -> MoneyUnit:
        return self.form.money_unit

    def label(self, path: str) -> str:
        """The label this form prints for a field; amounts carry the form's unit (项目总预算（万元）)."""
        return _label(self.name, path)

    def _label(self, path: str) -> str:
        spec = HEADER.get(path) or COLUMNS.get(path.removeprefix(INDICATOR_PREFIX))
        base = self.form.labels.get(path) or (spec.label if spec is not None else path)
        if spec is not None and spec.kind is Kind.MONEY:
            return f"{strip_unit(base)}（{self.money_unit}）"
        return base

    def column_label(self, key: str) -> str:
        """The heading this form prints over an indicator column."""
        return _column_label(self.name, key)

    def _column_label(self, key: str) -> str:
        found = next((c.label for c in self.form.table.columns if c.key == key and c.label), None)
        return found or self.label(INDICATOR_PREFIX + key)

    def header_paths(self) -> tuple[str, ...]:
        """The header fields this form prints, in its order."""
        return tuple(p for row in self.form.rows for p in row if not p.startswith("@"))

    def in_use(self, year: int | None) -> bool | None:
        """Whether a declaration for ``year`` is of this form's time; None when either is unknown."""
        first, last = self.years
        if year is None or (first is None and last is None):
            return None
        return (first is None or year >= first) and (last is None or year <= last)

    def rule_source(self, code: str, default: str | None) -> str | None:
        return self.rule_sources.get(code, default)

    def _index(self) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """Every spelling of every level, indexed once per profile: the rules look levels up for every
        indicator of every file (kept beside the frozen profile, keyed by its name)."""
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


@lru_cache(maxsize=4096)
def _label(profile: str, path: str) -> str:
    """Labels are asked for every field of every form read: computed once per profile and path."""
    return load_profile(profile)._label(path)


@lru_cache(maxsize=1024)
def _column_label(profile: str, key: str) -> str:
    return load_profile(profile)._column_label(key)


class UnknownProfileError(KeyError):
    """Raised for a profile name with no file behind it; its text is the message for the user."""

    def __str__(self) -> str:
        return unknown_profile(*self.args)


@cache
def load_profile(name: str) -> Profile:
    if name not in profile_names():
        raise UnknownProfileError(name)
    with open(os.path.join(PROFILES_DIR, f"{name}.json"), encoding="utf-8") as f:
        return from_data(Profile, json.load(f), f"{name}.json")


class ProfileInvalid(ValueError):
    """A profile file that does not hold a profile: where, and what was expected."""


_D = TypeVar("_D")


def from_data(cls: type[_D], data: Any, where: str) -> _D:
    """An instance of a profile class from parsed JSON, every value checked against the class's declared type:
    no key that is not a field, every field without a default given, a list where a tuple is declared (taken as
    the tuple), an integer where a number is."""
    value: _D = _value(cls, data, where)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _value(hint: Any, data: Any, where: str) -> Any:
    if hint is str and data.__class__ is str:
        return data  # most of a profile: its words
    origin, args = get_origin(hint), get_args(hint)
    if isinstance(hint, type) and is_dataclass(hint):
        if not isinstance(data, dict):
            raise ProfileInvalid(f"{where}：应为对象")
        names = {f.name for f in fields(hint)}
        unknown = sorted(set(data) - names)
        missing = [f.name for f in fields(hint) if f.name not in data and f.default is MISSING
                   and f.default_factory is MISSING]
        if unknown or missing:
            said = f"多出 {', '.join(unknown)}" if unknown else f"缺少 {', '.join(missing)}"
            raise ProfileInvalid(f"{where}：{said}")
        hints = _hints(hint)
        return hint(**{k: _value(hints[k], v, f"{where}.{k}") for k, v in data.items()})
    if origin is tuple:
        if not isinstance(data, list) or (args[-1] is not Ellipsis and len(data) != len(args)):
            raise ProfileInvalid(f"{where}：应为数组" + ("" if args[-1] is Ellipsis else f"（{len(args)} 项）"))
        if args == (str, Ellipsis) and all(d.__class__ is str for d in data):
            return tuple(data)
        items = [args[0]] * len(data) if args[-1] is Ellipsis else list(args)
        return tuple(_value(h, v, f"{where}[{i}]") for i, (h, v) in enumerate(zip(items, data, strict=True)))
    if origin is dict:
        if not isinstance(data, dict):
            raise ProfileInvalid(f"{where}：应为对象")
        return {k: _value(args[1], v, f"{where}.{k}") for k, v in data.items()}
    if origin is Literal:
        if data not in args:
            raise ProfileInvalid(f"{where}：应为 {' / '.join(map(str, args))} 之一")
        return data
    if origin is Union or origin is types.UnionType:
        if data is None and type(None) in args:
            return None
        return _value(next(a for a in args if a is not type(None)), data, where)
    if hint is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if isinstance(hint, type) and isinstance(data, hint) and not (hint is int and isinstance(data, bool)):
        return data
    raise ProfileInvalid(f"{where}：应为{_TYPE_WORDS.get(hint, str(hint))}")


_TYPE_WORDS = {str: "文本", int: "整数", float: "数值"}
