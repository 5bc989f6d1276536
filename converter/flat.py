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
import itertools
import operator
import re
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from .fields import COLUMNS, HEADER
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


def display_name(path: str) -> str:
    """How a file's path is shown: bytes that are not UTF-8 (Linux gives them to Python as lone surrogates) as
    ``\\xNN``, so that the CSV, the workbook and the console can hold every name and tell two apart."""
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate from a Windows name
        return printable(path)


def csv_field(value: str | None) -> str | None:
    """A CSV field that a spreadsheet application opens as text: one starting like a formula gets a leading
    ``'`` (OWASP's advice against CSV injection). The JSON and the summary workbook keep the exact text."""
    if value is None:
        return None
    value = printable(value)
    return _as_text(value) if value.startswith(_FORMULA_START) else value


def _as_text(value: str) -> str:
    """A field starting like a formula, as a spreadsheet application opens as text."""
    return f"'{value}"


# Where a row comes from: the same first columns in both tables, so they join on file and sheet.
_WHERE = ("文件", "工作表", HEADER["unit_name"].label, HEADER["project.name"].label, "表式", HEADER["year"].label)
_KINDS = {"quantitative": OTHER_QUANTITATIVE, "qualitative": QUALITATIVE, "deadline": "时限", "empty": "未填"}
INDICATOR_HEADER = (*_WHERE, "序号", *(spec.label for spec in COLUMNS.values()),
                    "类型（解析）", f"{COLUMNS['comparator'].label}（解析）", "数值（解析）",
                    f"{COLUMNS['unit'].label}（解析）")
_DECLARATION_FIELDS = tuple(p for p in HEADER if p not in ("unit_name", "project.name", "year"))
_DECLARATION_OF = operator.attrgetter(*_DECLARATION_FIELDS)  # every field at once, in C
DECLARATION_HEADER = (*_WHERE, *(HEADER[p].label for p in _DECLARATION_FIELDS), "指标数", "JSON 文件")

Row = tuple[str | None, ...]


def _text(value: Any) -> str | None:
    """One value as the CSV shows it (amounts in 元 with two places, dates ISO, flags 是 / 否)."""
    if value is None:
        return None
    if value.__class__ is str:  # most values
        return csv_field(value)
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
    return _headings(profile).get(value, value)


_COLUMN_KEYS = tuple(COLUMNS)
_COLUMNS_OF = operator.attrgetter(*_COLUMN_KEYS)
_COLUMNS_HELD = operator.itemgetter(*_COLUMN_KEYS)  # from a record's ``__dict__``
_PERIOD_AT = _COLUMN_KEYS.index("period")
_TARGET_AT, _COMPARATOR_AT, _UNIT_AT = (_COLUMN_KEYS.index(k) for k in ("target", "comparator", "unit"))
_AFTER_FORMULA = re.compile("\x00[" + re.escape("".join(_FORMULA_START)) + "]")  # a later field, joined


def _formula_cells(columns: Sequence[Sequence[str | None]]) -> list[tuple[int, int]] | None:
    """The cells (row, column) of a table, given by its columns, that ``csv_field`` would neutralise, or None
    when some text is not valid UTF-8 as it stands (the caller then passes every field through ``csv_field``).

    Every cell of a batch's tables passes here, so each column is checked in C as one joined text of its
    different texts (a file's findings repeat its name, unit and sheet, a table its levels; empty fields left
    out: they start nothing), and only a column where some field starts like a formula (a target ``=100%``)
    is looked at field by field; a text holding a NUL may look like one, and is then looked at too, never
    missed. ``join`` refuses a field that is not text (``TypeError``; ``dict`` one it cannot hash)."""
    cells: list[tuple[int, int]] = []
    for k, column in enumerate(columns):
        joined = "\x00".join(filter(None, dict.fromkeys(column)))
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:
            return None
        if joined.startswith(_FORMULA_START) or _AFTER_FORMULA.search(joined) is not None:
            cells.extend((i, k) for i, v in enumerate(column) if v and v.startswith(_FORMULA_START))
    return cells


def csv_rows(rows: Sequence[Sequence[str | None]]) -> Sequence[Sequence[str | None]]:
    """Rows of text (or nothing) with ``csv_field`` applied to every field; a row it would not change is kept
    as it is (most rows: see ``_formula_cells``)."""
    try:
        cells = _formula_cells(list(zip(*rows, strict=True)))
    except (TypeError, ValueError):  # a field that is not text, rows of different lengths
        cells = None
    if cells is None:
        return [[csv_field(v) for v in row] for row in rows]
    if not cells:
        return rows
    out = list(rows)
    for i, k in cells:
        out[i] = _neutralised(out[i], k)
    return out


def _neutralised(row: Sequence[str | None], k: int) -> Row:
    """``row`` with its field ``k`` (valid UTF-8, starting like a formula) as ``csv_field`` writes it."""
    return (*row[:k], _as_text(cast(str, row[k])), *row[k + 1:])


def _headings(profile: str) -> dict[str, str]:
    """How the form heads its tables by period (长期绩效指标, 年度绩效指标); none for a profile not known here."""
    try:
        return load_profile(profile).form.table.headings
    except UnknownProfileError:
        return {}


def _indicator(ind: Indicator, profile: str) -> Row:
    """An indicator's columns, then the parsed view of its target (the careful path: a declaration whose text
    ``_formula_cells`` found not valid UTF-8)."""
    values: tuple[Any, ...] = _COLUMNS_OF(ind)
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
    """One row per indicator of a declaration (INDICATOR_HEADER), in the order the form lists them.

    Every cell of every table passes here, so the work is done a column at a time: which fields need
    ``csv_field`` (``_formula_cells``), the parsed view (``_parsed``), the periods' headings; the rows are then
    the columns zipped, in C."""
    indicators = decl.indicators
    if not indicators:
        return []
    where = _where(file, sheet, decl)
    try:  # a model's fields as it holds them: a third of the cost of asking each by name
        table = list(map(_COLUMNS_HELD, map(vars, indicators)))
    except KeyError:
        table = list(map(_COLUMNS_OF, indicators))
    columns: list[Sequence[Any]] = list(zip(*table, strict=True))
    try:
        cells = _formula_cells(columns)
    except TypeError:  # a cell that is not text: never from the model, kept correct all the same
        cells = None
    if cells is None:
        return [(*where, str(i), *_indicator(ind, decl.profile)) for i, ind in enumerate(indicators, start=1)]
    parsed = list(map(_parsed, columns[_TARGET_AT], columns[_COMPARATOR_AT], columns[_UNIT_AT]))
    periods = columns[_PERIOD_AT]  # as the model holds them (a heading replaces any neutralised period)
    for i, k in cells:
        column = columns[k]
        if not isinstance(column, list):
            column = columns[k] = list(column)
        column[i] = _as_text(column[i])
    if periods.count(None) < len(periods):
        headings = _headings(decl.profile)
        columns[_PERIOD_AT] = list(map(headings.get, periods, periods))
    numbers = map(str, range(1, len(indicators) + 1))
    # ``where`` repeated for every row: the numbers end the rows.
    return list(zip(*map(itertools.repeat, where), numbers, *columns, *zip(*parsed, strict=True), strict=False))


def declaration_row(file: str, sheet: str | None, decl: Declaration, json_name: str | None) -> Row:
    """The declaration's row (DECLARATION_HEADER): every header field and amount."""
    return (*_where(file, sheet, decl), *map(_text, _DECLARATION_OF(decl)), str(len(decl.indicators)),
            csv_field(json_name))
