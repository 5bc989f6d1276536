"""The words forms print, as a reader recognises them: field labels, column headings, titles and headings.

A reader is generous: it knows the labels of every profile (and every spelling the model declares), so a form
is read whatever its layout; which profile it follows is decided afterwards (``detect``). Labels are compared
after normalisation (``label_key``), so ``项目名称*：``, ``项目名称:``, ``项目\\n名称`` and ``项目名称＊`` are
one label, and a money label matches with or without its unit (``项目总预算（万元）`` says which unit the
form's amounts are in).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from .fields import COLUMNS, HEADER, INDICATOR_PREFIX
from .model import Kind, Period
from .profile import MoneyUnit, Profile, load_profile, profile_names, strip_unit, unit_of_label

_STRIP = re.compile(r"[\s*:：＊※]+")
_NUMBERING = re.compile(  # 一、 （二） 3. — outline numbers before a heading
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（](?:[一二三四五六七八九十]+|\d{1,2})[)）]|\d{1,2}[、.．])")

# Generic words of these forms, whatever the profile: the title every declaration carries, the table headings of
# forms with long-term and annual tables, and the columns that only a self-evaluation (绩效自评表) has.
GENERIC_TITLE = re.compile(r"绩效目标(?:申报|申请)?表")
SELF_EVALUATION_TITLE = re.compile(r"绩效自评(?:表|报告)")
SELF_EVALUATION_COLUMNS = ("实际完成值", "全年实际值", "实际完成情况", "得分", "偏差原因分析及改进措施", "偏差原因",
                           "完成值")
PERIOD_HEADINGS: dict[Period, tuple[str, ...]] = {
    "long_term": ("长期绩效指标", "中长期绩效指标", "实施期绩效指标", "长期指标", "中长期指标", "实施期指标",
                  "长期绩效目标", "中长期绩效目标", "实施期绩效目标"),
    "annual": ("年度绩效指标", "年度指标", "本年度绩效指标", "年度绩效目标表"),
}
# A heading over a table's level columns in two-row headers (绩效指标 merged over 一级 / 二级 / 三级).
TABLE_GROUP_HEADINGS = ("绩效指标", "指标", "绩效指标体系")
YEAR_LINE = re.compile(r"^[(（]?\s*(\d{4})\s*[)）]?\s*年度?\s*[)）]?$")
TITLE_YEAR = re.compile(r"(\d{4})\s*年")


@lru_cache(maxsize=16384)
def label_key(text: str) -> str:
    """Normalise a label for comparison: NFKC (full-width → ASCII), no spaces, line breaks, stars or colons, no
    leading outline number (``一、``, ``（二）``)."""
    key = _STRIP.sub("", unicodedata.normalize("NFKC", text))
    return _NUMBERING.sub("", key)


def _money_key(text: str) -> str:
    return strip_unit(label_key(text))


@dataclass(frozen=True)
class Vocabulary:
    """Every label, heading and title a reader recognises, over all profiles."""

    header: dict[str, str]  # label key → field path
    columns: dict[str, str]  # heading key → Indicator key
    sections: frozenset[str]  # section headings and other printed words that hold no value
    periods: dict[str, Period]  # table heading key → period
    footer: frozenset[str]
    self_evaluation: frozenset[str]

    def header_label(self, text: str) -> tuple[str, MoneyUnit | None] | None:
        """(field path, unit the label states) when the text is a field label."""
        key = label_key(text)
        path = self.header.get(key)
        if path is not None:
            return path, unit_of_label(key) if HEADER[path].kind is Kind.MONEY else None
        path = self.header.get(_money_key(text))
        if path is not None and HEADER[path].kind is Kind.MONEY:
            return path, unit_of_label(key)
        return None

    def column(self, text: str) -> str | None:
        key = label_key(text)
        return self.columns.get(key) or self.columns.get(_money_key(text))

    def period(self, text: str) -> Period | None:
        return self.periods.get(label_key(text))

    def is_section(self, text: str) -> bool:
        return label_key(text) in self.sections

    def is_footer(self, text: str) -> bool:
        return label_key(text) in self.footer


def _add(index: dict[str, str], spelling: str, value: str, where: str) -> None:
    key = label_key(spelling)
    if not key:
        return
    found = index.setdefault(key, value)
    if found != value:
        raise ValueError(f"{where}: “{spelling}” names both {found} and {value}")


@cache
def vocabulary() -> Vocabulary:
    """Built once from the model's spellings and every profile; a spelling that names two fields is refused."""
    profiles = [load_profile(n) for n in profile_names()]
    header: dict[str, str] = {}
    for path, spec in HEADER.items():
        for spelling in spec.spellings:
            _add(header, strip_unit(spelling) if spec.kind is Kind.MONEY else spelling, path, "model")
    columns: dict[str, str] = {}
    for key, spec in COLUMNS.items():
        if spec.kind is not Kind.PERIOD:
            for spelling in spec.spellings:
                _add(columns, spelling, key, "model")
    sections: set[str] = {label_key(h) for h in TABLE_GROUP_HEADINGS}
    footer: set[str] = set()
    periods: dict[str, Period] = {label_key(h): p for p, hs in PERIOD_HEADINGS.items() for h in hs}
    for profile in profiles:
        form = profile.form
        for path in profile.header_paths():
            _add(header, strip_unit(profile.label(path)), path, profile.name)
        for path, spellings in form.spellings.items():
            for spelling in spellings:
                if path.startswith(INDICATOR_PREFIX):
                    _add(columns, spelling, path.removeprefix(INDICATOR_PREFIX), profile.name)
                else:
                    _add(header, strip_unit(spelling), path, profile.name)
        for column in form.table.columns:
            _add(columns, profile.column_label(column.key), column.key, profile.name)
        sections.update(label_key(h) for h in form.sections.values())
        footer.update(label_key(f) for f in form.footer)
        for period, heading in form.table.headings.items():
            periods[label_key(heading)] = period  # type: ignore[assignment]
    sections -= set(header)
    return Vocabulary(header, columns, frozenset(sections), periods, frozenset(footer),
                      frozenset(label_key(c) for c in SELF_EVALUATION_COLUMNS))


def title_profiles(text: str) -> list[str]:
    """The profiles whose title patterns the text matches (a form's title cell)."""
    key = label_key(text)
    return [n for n in profile_names() if any(re.search(p, key) for p in load_profile(n).form.title_patterns)]


def is_title(text: str) -> bool:
    """Whether a cell is a declaration form's title (and not a self-evaluation's or an instruction's)."""
    key = label_key(text)
    return len(key) <= 60 and GENERIC_TITLE.search(key) is not None and not SELF_EVALUATION_TITLE.search(key) \
        and "说明" not in key


def year_of_title(text: str) -> int | None:
    """The year a title or year line names: ``(2020)年度``, ``2024年度项目支出绩效目标申报表``."""
    m = YEAR_LINE.match(text.strip()) or TITLE_YEAR.search(text)
    return int(m.group(1)) if m else None


def profile_of(name: str) -> Profile:
    return load_profile(name)
