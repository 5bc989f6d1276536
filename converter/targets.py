"""Parse an indicator's target text into comparator, number and unit — a view, never a rewrite.

People type ``≥90%``, ``>=90``, ``不低于90%``, ``2次以上``, ``≥1亿条``, ``1344m ²``, ``12月底前`` or ``健全``.
The parser reads all of these; the raw text stays the value of record in the model.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

Kind = Literal["empty", "quantitative", "qualitative", "deadline"]
COMPARATORS = ("=", "≥", "≤", ">", "<")

# Spellings → canonical comparator. Longest first, so that ">=" wins over ">".
_PREFIX_WORDS: dict[str, str] = {
    ">=": "≥", "=>": "≥", "≥": "≥", "≧": "≥", "不低于": "≥", "不少于": "≥", "不小于": "≥", "大于等于": "≥",
    "大于或等于": "≥", "至少": "≥", "达到": "≥", "<=": "≤", "=<": "≤", "≤": "≤", "≦": "≤", "不高于": "≤",
    "不超过": "≤", "不多于": "≤", "不大于": "≤", "小于等于": "≤", "小于或等于": "≤", "最多": "≤", "控制在": "≤",
    ">": ">", "大于": ">", "高于": ">", "超过": ">", "多于": ">", "<": "<", "小于": "<", "低于": "<",
    "少于": "<", "=": "=", "等于": "=", "==": "=",
}
_SUFFIX_WORDS: dict[str, str] = {
    "及以上": "≥", "以上": "≥", "或以上": "≥", "及以下": "≤", "以下": "≤", "或以下": "≤", "以内": "≤",
    "之内": "≤",
}
# Known units, spelled as people type them → the unit shown in parsed views.
_UNITS: dict[str, str] = {
    "%": "%", "‰": "‰", "万元": "万元", "亿元": "亿元", "千元": "千元", "元": "元", "人次": "人次", "次": "次",
    "个": "个", "条": "条", "分钟": "分钟", "小时": "小时", "工作日": "工作日", "天": "天", "日": "天",
    "周": "周", "个月": "个月", "月": "月", "年": "年", "秒": "秒", "毫秒": "毫秒", "ms": "毫秒", "s": "秒",
    "万人": "万人", "人": "人", "家": "家", "项": "项", "件": "件", "份": "份", "篇": "篇", "台": "台", "套": "套",
    "户": "户", "场": "场", "期": "期", "册": "册", "本": "本", "批": "批", "所": "所", "座": "座", "处": "处",
    "m²": "m²", "m2": "m²", "㎡": "m²", "平方米": "m²", "平米": "m²", "平方公里": "km²", "km²": "km²",
    "km2": "km²", "公里": "km", "千米": "km", "km": "km", "米": "m", "m": "m", "吨": "吨", "千克": "kg",
    "kg": "kg", "GB": "GB", "TB": "TB", "MB": "MB", "分": "分", "课时": "课时", "学时": "学时", "门": "门",
}
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1_000)}

_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９．％＞＜＝，：　",
    "0123456789.%><=,: ",
)
_NUMBER = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_DEADLINE = re.compile(
    r"^(?:(?P<y>[0-9]{4})\s*年\s*)?(?P<m>[0-9]{1,2})\s*月(?:\s*(?P<d>[0-9]{1,2})\s*[日号])?"
    r"\s*(?P<end>底|末|中旬|下旬|上旬)?\s*(?P<before>前|之前|以前|前完成|完成|内)?$"
)
_ISO_DATE = re.compile(r"^(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})\s*(?P<before>前|之前|以前)?$")


@dataclass(frozen=True)
class TargetParts:
    """A parsed view of a target. ``raw`` is the untouched text."""

    raw: str | None
    kind: Kind
    comparator: str | None = None
    number: Decimal | None = None
    unit: str | None = None
    text: str | None = None  # the qualitative value, or words around a number ("一年…会议")
    year: int | None = None  # deadlines: year if written
    month: int | None = None
    day: int | None = None

    @property
    def is_percent(self) -> bool:
        return self.kind == "quantitative" and self.unit == "%"

    def deadline(self, default_year: int | None) -> dt.date | None:
        """The last day the target allows (``12月底前`` in 2020 → 2020-12-31)."""
        if self.kind != "deadline" or self.month is None or not 1 <= self.month <= 12:
            return None
        year = self.year or default_year
        if year is None:
            return None
        last = calendar.monthrange(year, self.month)[1]
        day = self.day if self.day is not None else last
        if not 1 <= day <= last:
            return None
        return dt.date(year, self.month, day)


def _normalise(text: str) -> str:
    """Full-width forms and inner spaces out; used only for parsing, never stored."""
    return re.sub(r"\s+", "", text.translate(_FULLWIDTH))


def _match_unit(rest: str) -> tuple[str | None, str]:
    for spelling in _UNIT_SPELLINGS:
        if rest.startswith(spelling):
            return _UNITS[spelling], rest[len(spelling):]
    return None, rest


_UNIT_SPELLINGS = sorted(_UNITS, key=len, reverse=True)
_PREFIXES = sorted(_PREFIX_WORDS, key=len, reverse=True)
_SUFFIXES = sorted(_SUFFIX_WORDS, key=len, reverse=True)


@lru_cache(maxsize=4096)
def parse_target(raw: str | None) -> TargetParts:
    """Parse one target text. Cached: the live functions in Excel call it on every recalculation."""
    if raw is None or not raw.strip():
        return TargetParts(raw=raw, kind="empty")
    text = _normalise(raw)

    m = _ISO_DATE.match(text) or _DEADLINE.match(text)
    if m:
        groups = m.groupdict()
        return TargetParts(
            raw=raw, kind="deadline", comparator="≤",
            year=int(groups["y"]) if groups.get("y") else None, month=int(groups["m"]),
            day=int(groups["d"]) if groups.get("d") else None,
        )

    number_match = _NUMBER.search(text)
    if number_match is None:
        return TargetParts(raw=raw, kind="qualitative", text=raw.strip())

    prefix, rest = text[: number_match.start()], text[number_match.end():]
    number = Decimal(number_match.group().replace(",", ""))
    comparator: str | None = None
    for word in _PREFIXES:
        if prefix.endswith(word):
            comparator = _PREFIX_WORDS[word]
            prefix = prefix[: -len(word)]
            break
    if rest[:1] in _MULTIPLIERS and rest[1:2] != "元":
        number *= _MULTIPLIERS[rest[0]]
        rest = rest[1:]
    if number == number.to_integral_value() and number.as_tuple().exponent < 0:  # type: ignore[operator]
        number = number.to_integral_value()
    unit, rest = _match_unit(rest)
    for word in _SUFFIXES:
        if rest.startswith(word):
            comparator = comparator or _SUFFIX_WORDS[word]
            rest = rest[len(word):]
            break
    words = (prefix + ("…" if prefix and rest else "") + rest) or None
    if unit is None and rest and len(rest) <= 4 and not any(ch.isdigit() for ch in rest) and not prefix:
        unit, words = rest, None  # an unlisted unit such as "≥3座次"
    return TargetParts(raw=raw, kind="quantitative", comparator=comparator, number=number, unit=unit, text=words)
