"""Parse an indicator's target text into comparator, number and unit — a view, never a rewrite.

People type ``≥90%``, ``>=90``, ``不低于90%``, ``2次以上``, ``≥1亿条``, ``1344m ²``, ``12月底前`` or ``健全``.
The parser reads all of these; the raw text stays the value of record in the model. Forms with their own
comparator (指标性质 / 计算符号) and unit (度量单位 / 计量单位) columns are read through ``row_parts``, which lets
those columns speak where they are filled and the target's own text where they are not.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from functools import lru_cache
from typing import Literal

Kind = Literal["empty", "quantitative", "qualitative", "deadline"]
COMPARATORS = ("=", "≥", "≤", ">", "<")
QUALITATIVE = "定性"  # what a comparator column holds for a qualitative indicator
OTHER_QUANTITATIVE = "定量"  # 定量（其他）: quantitative, the comparison explained in 指标值说明 rather than a symbol

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

_ASCII_DIGITS, _WIDE_DIGITS = "0123456789", "０１２３４５６７８９"
DIGITS = _ASCII_DIGITS + _WIDE_DIGITS  # what a target's number may be written in (full-width, as IMEs type it)
_FULLWIDTH = str.maketrans(_WIDE_DIGITS + "．％＞＜＝，：　", _ASCII_DIGITS + ".%><=,: ")
_NUMBER = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
# Deadlines, matched on the normalised text (no spaces). Each pattern names what it knows: year, month, day,
# quarter (q), half-year (h), or a part of a month (part: 上旬 → the 10th, 中旬 → the 20th, else its last day).
_BEFORE = r"(?:前|之前|以前|前完成|之前完成|完成|内|以内)?"
_CENTURIES = ("19", "20")  # a year's first two digits
_YEAR = rf"(?P<y>(?:{'|'.join(_CENTURIES)})[0-9]{{2}})"
_DEADLINES = tuple(re.compile(p) for p in (
    rf"^{_YEAR}[-/.](?P<m>[0-9]{{1,2}})[-/.](?P<d>[0-9]{{1,2}})(?:前|之前|以前)?$",  # 2024-06-30, 2024.6.30前
    rf"^{_YEAR}[-/.](?P<m>0?[1-9]|1[0-2])月?(?:底|末)?{_BEFORE}$",  # 2024.12, 2024-06底前
    rf"^(?:{_YEAR}年度?)?(?P<m>[0-9]{{1,2}})月份?(?:(?P<d>[0-9]{{1,2}})[日号])?"
    rf"(?P<part>底|末|中旬|下旬|上旬)?{_BEFORE}$",  # 12月底前, 2024年12月, 2024年6月30日前
    rf"^(?:{_YEAR}|本|当|今)?(?:年度?){{1,2}}(?:底|末|终|内){_BEFORE}$",  # 2024年底前, 2024年年底前, 年底前
    rf"^(?:{_YEAR}年度?)?第?(?P<q>[一二三四1-4])季度(?:末|底|内|结束)?{_BEFORE}$",  # 第三季度末
    rf"^(?:{_YEAR}年度?)?(?P<h>上|下)半年(?:末|底|内|结束)?{_BEFORE}$",  # 上半年完成
))
_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_PART_DAY = {"上旬": 10, "中旬": 20}


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


_DEFAULTS = {f.name: f.default for f in fields(TargetParts)}


def _made(**values: object) -> TargetParts:
    """``TargetParts(**values)`` without the frozen dataclass's attribute-by-attribute ``__init__``, at a quarter of
    its cost: the parser makes one for every target it has not seen (in Excel, as the user types)."""
    parts: TargetParts = object.__new__(TargetParts)
    parts.__dict__.update(_DEFAULTS, **values)
    return parts


def _normalise(text: str) -> str:
    r"""Full-width forms and inner spaces out; used only for parsing, never stored. ("".join(split()) drops what
    r"\s+" matches: both go by str.isspace.)"""
    return "".join(text.translate(_FULLWIDTH).split())


def _lengths(words: dict[str, str]) -> tuple[int, ...]:
    """The lengths of a word list's words, longest first: at each length at most one word can start (or end) a
    text, so looking each length up in the dict finds the longest match, as trying every word longest first would."""
    return tuple(sorted({len(w) for w in words}, reverse=True))


def _leading(text: str, words: dict[str, str], lengths: tuple[int, ...]) -> str | None:
    """The longest of ``words`` that ``text`` starts with, or None."""
    size = len(text)
    for n in lengths:
        if n <= size and text[:n] in words:
            return text[:n]
    return None


def _trailing(text: str, words: dict[str, str], lengths: tuple[int, ...]) -> str | None:
    """The longest of ``words`` that ``text`` ends with, or None."""
    size = len(text)
    for n in lengths:
        if n <= size and text[size - n:] in words:
            return text[size - n:]
    return None


def _match_unit(rest: str) -> tuple[str | None, str]:
    spelling = _leading(rest, _UNITS, _UNIT_LENGTHS)
    if spelling is None:
        return None, rest
    return _UNITS[spelling], rest[len(spelling):]


def _deadline(raw: str, text: str) -> TargetParts | None:
    """A time-limit target (``2024年底前``, ``2024.12``, ``12月底前``, ``第三季度末``…), or None."""
    if not text.startswith(_CENTURIES) and "年" not in text and "月" not in text and "季" not in text:
        return None  # each pattern needs a year at the start (2024.12), 年 (年底, 半年), 月 or 季 (季度)
    for pattern in _DEADLINES:
        m = pattern.match(text)
        if m is None:
            continue
        g = m.groupdict()
        if g.get("q"):
            month = 3 * _QUARTERS[g["q"]]
        elif g.get("h"):
            month = 6 if g["h"] == "上" else 12
        else:
            month = int(g["m"]) if g.get("m") else 12  # a year's end: 2024年底, 年底前
        day = int(g["d"]) if g.get("d") else _PART_DAY.get(g.get("part") or "")
        return _made(raw=raw, kind="deadline", comparator="≤", year=int(g["y"]) if g.get("y") else None,
                           month=month, day=day)
    return None


_UNIT_LENGTHS = _lengths(_UNITS)
_PREFIX_LENGTHS = _lengths(_PREFIX_WORDS)
_SUFFIX_LENGTHS = _lengths(_SUFFIX_WORDS)


@lru_cache(maxsize=4096)
def parse_target(raw: str | None) -> TargetParts:
    """Parse one target text. Cached: the live functions in Excel call it on every recalculation."""
    if raw is None or not raw.strip():
        return _made(raw=raw, kind="empty")
    text = _normalise(raw)

    due = _deadline(raw, text)
    if due is not None:
        return due

    number_match = _NUMBER.search(text)
    if number_match is None:
        return _made(raw=raw, kind="qualitative", text=raw.strip())

    prefix, rest = text[: number_match.start()], text[number_match.end():]
    number = Decimal(number_match.group().replace(",", ""))
    comparator: str | None = None
    word = _trailing(prefix, _PREFIX_WORDS, _PREFIX_LENGTHS)
    if word is not None:
        comparator = _PREFIX_WORDS[word]
        prefix = prefix[: -len(word)]
    if rest[:1] in _MULTIPLIERS and rest[1:2] != "元":
        number *= _MULTIPLIERS[rest[0]]
        rest = rest[1:]
    if number == number.to_integral_value() and number.as_tuple().exponent < 0:  # type: ignore[operator]
        number = number.to_integral_value()
    unit, rest = _match_unit(rest)
    word = _leading(rest, _SUFFIX_WORDS, _SUFFIX_LENGTHS)
    if word is not None:
        comparator = comparator or _SUFFIX_WORDS[word]
        rest = rest[len(word):]
    words = (prefix + ("…" if prefix and rest else "") + rest) or None
    if unit is None and rest and len(rest) <= 4 and not any(ch.isdigit() for ch in rest) and not prefix:
        unit, words = rest, None  # an unlisted unit such as "≥3座次"
    return _made(raw=raw, kind="quantitative", comparator=comparator, number=number, unit=unit, text=words)


# What a comparator column may hold besides the target's own spellings (``≥``, ``>=``, ``不低于``…).
_COLUMN_WORDS: dict[str, str] = {
    **dict.fromkeys((QUALITATIVE, "定性指标"), QUALITATIVE),
    **dict.fromkeys((OTHER_QUANTITATIVE, "定量（其他）", "定量(其他)", "定量其他", "其他"), OTHER_QUANTITATIVE),
}
# Unit-column words for a percentage that never follow a number in a target.
_UNIT_WORDS: dict[str, str] = {"百分比": "%", "百分率": "%", "百分数": "%", "百分点": "%"}
# What a unit or comparator column may hold that makes a row a percentage, or qualitative (for checks that
# spreadsheet formulas make, which cannot call the parser).
PERCENT_UNIT_WORDS: tuple[str, ...] = ("%", "％", *_UNIT_WORDS)
QUALITATIVE_WORDS: tuple[str, ...] = tuple(w for w, v in _COLUMN_WORDS.items() if v == QUALITATIVE)


@lru_cache(maxsize=256)
def comparator_of(text: str | None) -> str | None:
    """What a comparator column's cell says: one of ``COMPARATORS``, ``QUALITATIVE`` or ``OTHER_QUANTITATIVE``;
    None when it is blank or not a comparator at all (``＞`` → ``>``, ``>=`` → ``≥``, ``不低于`` → ``≥``)."""
    if text is None:
        return None
    key = _normalise(text)
    return _COLUMN_WORDS.get(key) or _PREFIX_WORDS.get(key) or _SUFFIX_WORDS.get(key)


@lru_cache(maxsize=256)
def unit_of(text: str | None) -> str | None:
    """The unit a unit column's cell names, as parsed views show units (``％`` → ``%``, ``平方米`` → ``m²``);
    a unit the parser does not know is kept as written; None for a blank cell."""
    if text is None or not text.strip():
        return None
    key = _normalise(text)
    return _UNITS.get(key) or _UNIT_WORDS.get(key) or text.strip()


@lru_cache(maxsize=4096)
def row_parts(target: str | None, comparator: str | None = None, unit: str | None = None) -> TargetParts:
    """The parsed view of an indicator row: its target, with the row's own comparator and unit columns taking
    precedence where they are filled. ``定性`` in the comparator column makes the row qualitative. A comparator
    column holding something unrecognisable is ignored here (the rules report it on its own)."""
    parts = parse_target(target)
    if comparator is None and unit is None:
        return parts
    said = comparator_of(comparator)
    if said == QUALITATIVE and parts.kind in ("quantitative", "qualitative") and target is not None:
        return TargetParts(raw=target, kind="qualitative", text=target.strip())
    if parts.kind != "quantitative":
        return parts
    return replace(parts, comparator=said if said in COMPARATORS else parts.comparator,
                   unit=unit_of(unit) or parts.unit)
