"""Flat tables of a batch for a pivot table or pandas: ``indicators.csv`` (one row per indicator) and
``declarations.csv`` (one row per declaration), UTF-8 with BOM so that Excel opens them as Chinese text.

Columns are derived from the field registry (every header field, every indicator column, in the model's
order), so a new field is a new column without a change here. Amounts are in 元 with two places, as in the
JSON; dates ISO; flags 是 / 否. Each indicator row also carries the parsed view of its target (the same
``row_parts`` the rules use: the form's own comparator and unit columns speak where they are filled).

A field that a spreadsheet application would take for a formula is neutralised (``csv_field``), as in
findings.csv; the JSON keeps the exact text.
"""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .fields import COLUMNS, HEADER, get_field
from .model import NO, YES, Declaration, Indicator
from .profile import UnknownProfileError, load_profile
from .targets import OTHER_QUANTITATIVE, QUALITATIVE, row_parts

INDICATORS_CSV = "indicators.csv"
DECLARATIONS_CSV = "declarations.csv"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """Text every output can hold: a lone surrogate (from a name or a damaged file) as ``\\udcXX``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def csv_field(value: str | None) -> str | None:
    """A CSV field that a spreadsheet application opens as text: one starting like a formula gets a leading
    ``'`` (OWASP's advice against CSV injection). The JSON and the summary workbook keep the exact text."""
    if value is None:
        return None
    value = printable(value)
    return f"'{value}" if value.startswith(_FORMULA_START) else value


# Where a row comes from: the same first columns in both tables, so they join on file and sheet.
_WHERE = ("文件", "工作表", HEADER["unit_name"].label, HEADER["project.name"].label, "表式", HEADER["year"].label)
_KINDS = {"quantitative": OTHER_QUANTITATIVE, "qualitative": QUALITATIVE, "deadline": "时限", "empty": "未填"}
INDICATOR_HEADER = (*_WHERE, "序号", *(spec.label for spec in COLUMNS.values()),
                    "类型（解析）", f"{COLUMNS['comparator'].label}（解析）", "数值（解析）",
                    f"{COLUMNS['unit'].label}（解析）")
_DECLARATION_FIELDS = tuple(p for p in HEADER if p not in ("unit_name", "project.name", "year"))
DECLARATION_HEADER = (*_WHERE, *(HEADER[p].label for p in _DECLARATION_FIELDS), "指标数", "JSON 文件")

Row = tuple[str | None, ...]


def _text(value: Any) -> str | None:
    """One value as the CSV shows it (amounts in 元 with two places, dates ISO, flags 是 / 否)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, Decimal):
        return f"{value:.2f}"  # amounts: the model holds them in 元 to the 分
    if isinstance(value, dt.date):
        return value.isoformat()
    return csv_field(str(value))


def _where(file: str, sheet: str | None, decl: Declaration) -> Row:
    return (csv_field(file), csv_field(sheet), _text(decl.unit_name), _text(decl.project.name), decl.profile,
            _text(decl.year))


def _period(value: str | None, profile: str) -> str | None:
    """A period as the form heads its table (长期绩效指标, 年度绩效指标)."""
    if value is None:
        return None
    try:
        return load_profile(profile).form.table.headings.get(value, value)
    except UnknownProfileError:
        return value


_COLUMN_KEYS = tuple(COLUMNS)
_COLUMNS_OF = operator.attrgetter(*_COLUMN_KEYS)
_PERIOD_AT = _COLUMN_KEYS.index("period")


def _plain_texts(values: tuple[Any, ...]) -> bool:
    """Whether every value is None or text that is valid UTF-8 as it stands (no lone surrogate), so that
    ``_text`` would only neutralise formulas: one check for a whole row (``join`` refuses what is not text)."""
    try:
        "".join([v for v in values if v is not None]).encode("utf-8")
    except (UnicodeEncodeError, TypeError):
        return False
    return True


def _indicator(ind: Indicator, profile: str) -> Row:
    """An indicator's columns, then the parsed view of its target. Every cell of a table passes here, so the
    common case (text, or nothing) is checked once per row, not once per cell."""
    values: tuple[Any, ...] = _COLUMNS_OF(ind)
    if _plain_texts(values):
        cells = [v if v is None or not v.startswith(_FORMULA_START) else f"'{v}" for v in values]  # as csv_field
    else:
        cells = [_text(v) for v in values]
    cells[_PERIOD_AT] = _period(values[_PERIOD_AT], profile)
    return (*cells, *_parsed(ind.target, ind.comparator, ind.unit))


@lru_cache(maxsize=4096)
def _parsed(target: str | None, comparator: str | None, unit: str | None) -> Row:
    """The parsed view's columns of a row (kind, comparator, number, unit): remembered, as ``row_parts`` is."""
    parts = row_parts(target, comparator, unit)
    number = format(parts.number, "f") if parts.number is not None else None
    return _KINDS[parts.kind], csv_field(parts.comparator), number, _text(parts.unit)


def indicator_rows(file: str, sheet: str | None, decl: Declaration) -> list[Row]:
    """One row per indicator of a declaration (INDICATOR_HEADER), in the order the form lists them."""
    where = _where(file, sheet, decl)
    return [(*where, str(i), *_indicator(ind, decl.profile)) for i, ind in enumerate(decl.indicators, start=1)]


def declaration_row(file: str, sheet: str | None, decl: Declaration, json_name: str | None) -> Row:
    """The declaration's row (DECLARATION_HEADER): every header field and amount."""
    return (*_where(file, sheet, decl), *(_text(get_field(decl, p)) for p in _DECLARATION_FIELDS),
            str(len(decl.indicators)), csv_field(json_name))
