"""What the indicator rules read of a row and of a form, worked out once and shared by every rule.

A rule over one indicator row asks the same questions as its neighbours: is the name a rate, a satisfaction, a
measure; what does the target say once parsed with the row's own comparator and unit columns; which of the
profile's levels are these. ``RowFacts`` answers each once per row, ``FormFacts`` once per profile, so that the
catalogue's nineteen row rules are plain tests over precomputed values (issue 13: the target was parsed and the
name searched several times per row, by each rule that needed them).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from .fields import COLUMNS
from .model import Period
from .profile import Profile, load_profile
from .targets import COMPARATORS, TargetParts, comparator_of, parse_target, row_parts

RATE_WORD, RATE_EXCLUDED = "率", "效频功速概"  # a rate's name holds 率, but 效率, 频率… are no rates
SATISFACTION_WORD = "满意度"
_RATE = re.compile(f"(?<![{RATE_EXCLUDED}]){RATE_WORD}")
# A growth or change rate may exceed 100% (增长率 150%); a completion, pass or execution rate may not.
_CHANGE_RATE = re.compile(r"增长|增加|增幅|增速|涨幅|下降|降低|降幅|减少|减幅|提高|提升|变化|变动|同比|环比")
_BUDGET_RATE = re.compile(r"执行率|到位率")
MEASURE_WORDS = ("数量", "次数", "人数", "个数", "件数", "户数", "面积", "时长", "时间", "时限", "天数", "周期",
                 "长度", "金额")
_MEASURE = re.compile("|".join(map(re.escape, MEASURE_WORDS)))  # one search instead of a test per word


def is_rate_name(name: str | None) -> bool:
    return bool(name) and _RATE.search(name or "") is not None and SATISFACTION_WORD not in (name or "")


def is_satisfaction_name(name: str | None) -> bool:
    return bool(name) and SATISFACTION_WORD in (name or "")


def is_change_rate_name(name: str | None) -> bool:
    """A growth or change rate (增长率, 下降率, 增幅…): the one kind of rate that may exceed 100%."""
    return bool(name) and _CHANGE_RATE.search(name or "") is not None


def is_measure_name(name: str | None) -> bool:
    """A count or measure (数量, 次数, 面积, 时间…): assessed against a number."""
    return bool(name) and _MEASURE.search(name or "") is not None


def is_budget_rate_name(name: str | None) -> bool:
    """An execution or funds-arrival rate (执行率, 到位率)."""
    return _BUDGET_RATE.search(name or "") is not None


NameFacts = tuple[bool, bool, bool, bool, bool]  # rate, satisfaction, change rate, measure, budget rate


@lru_cache(maxsize=16384)
def name_facts(name: str | None) -> NameFacts:
    """What an indicator's name says of its kind, each question asked once per name (the same names recur in
    form after form of a batch)."""
    if not name:
        return _NOTHING_SAID
    satisfaction = SATISFACTION_WORD in name
    return (not satisfaction and _RATE.search(name) is not None, satisfaction, _CHANGE_RATE.search(name) is not None,
            _MEASURE.search(name) is not None, _BUDGET_RATE.search(name) is not None)


_NOTHING_SAID: NameFacts = (False, False, False, False, False)


def _threshold(value: float) -> Decimal:
    """A profile threshold as a Decimal that prints as written (80, not 80.0)."""
    number = Decimal(str(value))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


class FormFacts:
    """What the rules need of one profile: its level index, the headings it prints over each column, the items
    its messages list, its thresholds and the groups it expects. Built once per profile (``form_facts``)."""

    __slots__ = (
        "budget_floor",
        "comparator_items",
        "labels",
        "level1",
        "level1_items",
        "level2",
        "name_max_chars",
        "own_columns",
        "profile",
        "required_pairs",
        "satisfaction_floor",
        "symbol_items",
    )

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.level1: dict[str, str] = {}
        self.level2: dict[str, tuple[str, str]] = {}
        for spelling in profile.all_level1_spellings():
            if (level1 := profile.canonical_level1(spelling)) is not None:
                self.level1[spelling] = level1
        for spelling in profile.all_level2_spellings():
            if (level2 := profile.canonical_level2(spelling)) is not None:
                self.level2[spelling] = level2
        self.labels = {key: profile.column_label(key) for key in COLUMNS}
        self.own_columns = frozenset(c.key for c in profile.form.table.columns)
        self.level1_items = "、".join(profile.level1_names())
        self.comparator_items = "、".join(profile.lists.comparator)
        self.symbol_items = "、".join(c for c in profile.lists.comparator if comparator_of(c) in COMPARATORS)
        thresholds = profile.thresholds
        self.satisfaction_floor = _threshold(thresholds.satisfaction_min_percent)
        self.budget_floor = _threshold(thresholds.budget_rate_min_percent)
        self.name_max_chars = thresholds.indicator_name_max_chars
        # (level 1, level 2) of every group the form expects, in the profile's order
        self.required_pairs = tuple((level1, level2) for level1, level2s in profile.required_groups.items()
                                    for level2 in level2s)

    def canonical_level1(self, value: str | None) -> str | None:
        """As ``Profile.canonical_level1``, from this form's own index."""
        return self.level1.get(value) if value else None

    def canonical_level2(self, value: str | None) -> tuple[str, str] | None:
        """As ``Profile.canonical_level2``, from this form's own index."""
        return self.level2.get(value) if value else None

    def field_for(self, key: str) -> str:
        """Where a missing comparator or unit is reported: its own column where the form has one, else the target."""
        return key if key in self.own_columns else "target"


@lru_cache(maxsize=64)
def form_facts(profile: str) -> FormFacts:
    return FormFacts(load_profile(profile))


def facts_of(profile: Profile) -> FormFacts:
    """The facts of a profile object: the remembered ones when it is the loaded profile of its name."""
    facts = form_facts(profile.name)
    return facts if facts.profile is profile else FormFacts(profile)


class RowFacts:
    """One indicator row as every row rule reads it: its cells, its levels as the profile names them, what its
    name says and its target parsed with the row's comparator and unit columns — each worked out once."""

    __slots__ = (
        "budget_rate",
        "change_rate",
        "comparator",
        "form",
        "l1",
        "l2",
        "level1",
        "level2",
        "measure",
        "name",
        "parts",
        "percent_name",
        "period",
        "rate",
        "satisfaction",
        "target",
        "unit",
    )

    def __init__(self, form: FormFacts, level1: str | None, level2: str | None, name: str | None,
                 comparator: str | None, target: str | None, unit: str | None, period: Period | None) -> None:
        self.form = form
        self.level1, self.level2, self.name, self.period = level1, level2, name, period
        self.comparator, self.target, self.unit = comparator, target, unit
        self.l1 = form.level1.get(level1) if level1 else None  # the profile's name for the level, or None
        self.l2 = form.level2.get(level2) if level2 else None  # (level 1, level 2) the profile files it under
        self.rate, self.satisfaction, self.change_rate, self.measure, self.budget_rate = name_facts(name)
        self.percent_name = self.rate or self.satisfaction  # I008 / I009 give the verdict on its target
        self.parts: TargetParts = row_parts(target, comparator, unit)

    @property
    def comparator_unreadable(self) -> bool:
        """A comparator column holding something that is no comparator (I019 says so; others stay quiet)."""
        return self.comparator is not None and comparator_of(self.comparator) is None

    @property
    def over_100(self) -> bool:
        """A completion, pass or satisfaction percentage beyond what can happen (>100%, or ">100%")."""
        if not self.percent_name or self.change_rate:
            return False
        parts = self.parts
        if not parts.is_percent or parts.number is None:
            return False
        return parts.number > 100 or (parts.number == 100 and parts.comparator == ">")

    @property
    def floor(self) -> Decimal | None:
        """The least percentage the target allows (≥95% → 95), or None."""
        parts = self.parts
        if parts.is_percent and parts.comparator in ("≥", ">", "=") and parts.number is not None:
            return parts.number
        return None

    def shown(self) -> str:
        """The target as a reviewer reads it: with the row's comparator and unit cells around it where the form
        has them and the target's own text does not already say them (``≥`` ``95`` ``%`` → ≥95%)."""
        target = self.target or ""
        if self.comparator is None and self.unit is None:
            return target
        own = parse_target(target)
        numeric = own.kind == "quantitative"
        prefix = self.comparator if numeric and own.comparator is None and comparator_of(self.comparator) in \
            COMPARATORS else None
        unit = self.unit if numeric and own.unit is None else None
        return f"{prefix or ''}{target}{unit or ''}"

    def params(self) -> dict[str, str | None]:
        """What most row messages say of the row: its levels, name and target (as shown), the target's heading."""
        return {"level1": self.level1, "level2": self.level2, "name": self.name or "", "target": self.shown(),
                "label": self.form.labels["target"]}
