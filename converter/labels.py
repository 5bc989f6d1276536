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
from .profile import MoneyUnit, load_profile, profile_names, strip_unit, unit_of_label

_STRIP = re.compile(r"[\s*:：＊※]+")
_NUMBERING = re.compile(  # 一、 （二） 3. — outline numbers before a heading; 其中 before a sub-item
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（](?:[一二三四五六七八九十]+|\d{1,2})[)）]|\d{1,2}[、.．])?(?:其中)?")

# Generic words of these forms, whatever the profile: the title every declaration carries, the table headings of
# forms with long-term and annual tables, and the columns that only a self-evaluation (绩效自评表) has.
# A title is short and ends with its form's name (a year or a note in brackets may follow); a sentence that
# mentions a 绩效目标表 is a value, not a title.
_TITLE_TAIL = r"(?:[(\[【][^()\[\]【】]{0,30}[)\]】])?$"
GENERIC_TITLE = re.compile(r"^[^,，。;；:：]{0,40}绩效目标(?:申报|申请)?表" + _TITLE_TAIL)
# Forms that are not declarations, by title: what a sheet is called in F003 when it is one of them.
OTHER_FORMS = {"绩效自评表": re.compile(r"^[^,，。;；:：]{0,40}绩效自评(?:表|报告)" + _TITLE_TAIL),
               "绩效监控表": re.compile(r"^[^,，。;；:：]{0,40}绩效(?:运行)?监控(?:情况)?(?:表|报告)" + _TITLE_TAIL)}
# Table columns only those forms have (beside an 指标值): a self-evaluation's results, a monitoring's progress.
OTHER_FORM_COLUMNS = {"绩效自评表": ("实际完成值", "全年实际值", "实际完成情况", "得分", "偏差原因分析及改进措施",
                                   "偏差原因", "完成值"),
                      "绩效监控表": ("当前完成值", "完成可能性分析", "完成可能性", "偏差原因说明", "1-6月执行情况",
                                   "截至目前完成情况")}
PERIOD_HEADINGS: dict[Period, tuple[str, ...]] = {
    "long_term": ("长期绩效指标", "中长期绩效指标", "实施期绩效指标", "长期指标", "中长期指标", "实施期指标",
                  "总体绩效指标", "总目标绩效指标"),
    "annual": ("年度绩效指标", "年度指标", "本年度绩效指标", "年度绩效目标表", "本年度目标绩效指标"),
}
# Printed words that hold no value, whatever the profile: section headings of the header, and what is
# written below a form for signatures and review.
GENERIC_SECTIONS = ("项目基本情况", "项目基本信息", "基本信息", "项目资金情况", "资金情况", "绩效目标", "项目绩效目标",
                    "项目资金", "绩效指标表")
GENERIC_FOOTER = ("填报人", "填表人", "联系电话", "填报日期", "填表日期", "单位负责人", "财务负责人", "项目负责人",
                  "审核人", "审核意见", "单位（盖章）", "单位盖章", "其他说明的问题", "其他需说明的问题")
# A line that states the unit of the amounts: 金额单位：元, （单位：万元）, 单位：万元.
UNIT_LINE = re.compile(r"^[(]?(?:金额|资金)?单位[:]?(万?元)[)]?$")
# A table with a target for the whole implementation period beside the annual one (88号: 中期指标值 | 年度指标值):
# each row is two indicators, one of each period. The column's key is not a model field: its cells become the
# long-term indicator's target.
LONG_TERM_TARGET = "target@long_term"
LONG_TERM_TARGET_HEADINGS = ("实施期指标值", "中期指标值", "长期指标值", "中长期指标值", "实施期目标值", "中长期目标值",
                             "指标值（实施期）", "指标值（中期）", "指标值（长期）", "指标值（中长期）")
# A heading over a table's level columns in two-row headers (绩效指标 merged over 一级 / 二级 / 三级).
TABLE_GROUP_HEADINGS = ("绩效指标", "指标", "绩效指标体系")
_HEADING_YEAR = re.compile(r"^[(]?\d{4}[)]?年度?")
_YEAR_DIGITS = re.compile(r"^[(]?\d{4}[)]?")
_TRAILING_NOTE = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")
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
    other_columns: dict[str, str]  # heading key → the kind of form only it belongs to (绩效自评表…)

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
        """The period a table heading names, with a year or a note around it (2027年度绩效指标,
        长期绩效指标（2027-2029年）)."""
        key = label_key(text)
        if key in self.periods or len(key) > 40:
            return self.periods.get(key)
        bare = _TRAILING_NOTE.sub("", key)
        for candidate in (bare, _YEAR_DIGITS.sub("", bare), _HEADING_YEAR.sub("", bare)):
            if candidate in self.periods:
                return self.periods[candidate]
        return None

    def amounts_in(self, text: str) -> list[tuple[str | None, str]]:
        """The amounts one cell holds after its own label, each with the money label that precedes it: [(None,
        '500万元'), ('budget.fiscal_funds', '450万元'), …]; empty unless another money label stands in the text."""
        plain = unicodedata.normalize("NFKC", text)
        if len(plain) > 200:
            return []
        found = [(m.start(), m.end(), self.header[_money_key(m.group())]) for m in _money_labels().finditer(plain)]
        if not found:
            return []
        starts = [(0, 0, None), *found]
        out: list[tuple[str | None, str]] = []
        for (_, end, path), nxt in zip(starts, [*found[:], (len(plain), len(plain), None)], strict=True):
            out.append((path, plain[end:nxt[0]].strip(_AMOUNT_JUNK)))
        return out if all(value for _, value in out) else []

    def is_section(self, text: str) -> bool:
        return label_key(text) in self.sections

    def is_footer(self, text: str) -> bool:
        return label_key(text) in self.footer


_AMOUNT_JUNK = " :：,，、;；。()（）其中为"


@cache
def _money_labels() -> re.Pattern[str]:
    """Every spelling of every money label, longest first, as they may stand inside a text (NFKC)."""
    vocab = vocabulary()
    spellings = {unicodedata.normalize("NFKC", s) for p, spec in HEADER.items() if spec.kind is Kind.MONEY
                 for s in (*spec.spellings, *(sp for prof in profile_names()
                                             for sp in load_profile(prof).form.spellings.get(p, ())))}
    spellings = {strip_unit(s) for s in spellings if vocab.header.get(_money_key(s))}
    return re.compile("|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True)))


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
    columns: dict[str, str] = {label_key(h): LONG_TERM_TARGET for h in LONG_TERM_TARGET_HEADINGS}
    for key, spec in COLUMNS.items():
        if spec.kind is not Kind.PERIOD:
            for spelling in spec.spellings:
                _add(columns, spelling, key, "model")
    sections: set[str] = {label_key(h) for h in (*TABLE_GROUP_HEADINGS, *GENERIC_SECTIONS)}
    footer: set[str] = {label_key(f) for f in GENERIC_FOOTER}
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
                      {label_key(c): kind for kind, cs in OTHER_FORM_COLUMNS.items() for c in cs})


def title_profiles(text: str) -> list[str]:
    """The profiles whose title patterns the text matches (a form's title cell)."""
    key = label_key(text)
    return [n for n in profile_names() if any(re.search(p, key) for p in load_profile(n).form.title_patterns)]


TITLE_CHARS = 60  # the longest a title is (its ``label_key``): a longer text is a sentence, not a title


def is_title(text: str) -> bool:
    """Whether a cell is a declaration form's title (not a self-evaluation's, not a sentence mentioning one)."""
    key = label_key(text)
    return len(key) <= TITLE_CHARS and GENERIC_TITLE.search(key) is not None and "说明" not in key


def other_form(text: str) -> str | None:
    """The kind of form a title names when it is a form that is not a declaration (绩效自评表, 绩效监控表)."""
    key = label_key(text)
    return next((kind for kind, title in OTHER_FORMS.items() if len(key) <= TITLE_CHARS and title.search(key)), None)


def unit_line(text: str) -> MoneyUnit | None:
    """The unit a line such as ``金额单位：元`` states, else None."""
    m = UNIT_LINE.match(unicodedata.normalize("NFKC", text).replace(" ", "").replace("：", ":"))
    return ("万元" if m.group(1) == "万元" else "元") if m else None


def year_of_title(text: str) -> int | None:
    """The year a title or year line names: ``(2020)年度``, ``2024年度项目支出绩效目标申报表``."""
    m = YEAR_LINE.match(text.strip()) or TITLE_YEAR.search(text)
    return int(m.group(1)) if m else None
