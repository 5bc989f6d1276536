"""Live indicator functions for Excel (xlwings UDFs), running the converter's own rule catalogue.

Signatures stay primitive: on Windows, type hints on UDF arguments become xlwings converters, and a model
or Decimal hint fails there. Each function takes what Excel passes (None for blanks, floats, datetimes,
error strings) and turns it into the model's terms itself.

Excel calls them on every recalculation — PG_CHECK_INDICATOR once per row, PG_SHEET_SUMMARY over the whole
table — so each does the least it can (``bench/functions.py`` holds the goals: a call with cells never seen
under 100 µs, the summary of 60 new rows under 1 ms): a plain text cell is taken as it is (``_cell``), what a
profile means here is worked out once (``_form``), a row's cells, already as the model keeps them, are the rules'
row with no model validated again (the rules over the whole table read the rows too, by column), and what the
rules say of a row is kept as plain text or counts keyed by its cells, never as Finding models, so
only new rows are checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, cast

import xlwings as xw

from converter.fields import BUDGET_FIELDS
from converter.findings import Finding, Severity
from converter.model import (
    MAX_CELL_CHARS,
    TEXT_COLUMNS,
    Budget,
    Indicator,
    clean_text,
    has_controls,
    strip_controls,
)
from converter.profile import DEFAULT_PROFILE, UnknownProfileError, load_profile
from converter.readers.values import as_date, as_money, as_text, as_year
from converter.rules import (
    AMOUNT_UNPARSEABLE,
    ROW_KEYS,
    Context,
    Row,
    check_budget,
    row_of,
    row_severities,
    row_verdicts,
    table_severities,
)
from converter.severity import VERDICT_OK as OK
from converter.severity import VERDICT_SEPARATOR as SEPARATOR
from converter.severity import VERDICT_SHOWN as SHOWN
from converter.severity import tally
from converter.targets import QUALITATIVE, parse_target

# The amounts PG_CHECK_BUDGET and PG_SHEET_SUMMARY take, in the order of their parameters (a test holds the names).
LIVE_AMOUNTS = BUDGET_FIELDS[:4]
EXCEL_ERRORS = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!")
_EXCEL_ERRORS = frozenset(EXCEL_ERRORS)
# The indicator cells PG_CHECK_INDICATOR takes (level1, level2, indicator_name, target, …, comparator, unit), as
# the model's keys.
_ROW_CELLS = ("level1", "level2", "name", "target", "comparator", "unit")
Cells = tuple[str | None, ...]
CellIndex = tuple[int | None, ...]


def _cell_of_key(keys: tuple[str, ...]) -> CellIndex | None:
    """Where each of the model's columns (ROW_KEYS) is among a row's cells (``keys``), if it is: the row the rules
    read, made from the cells (``_cell`` each, so already as the model keeps a text) without a model made. None
    when a cell is no text column (a period), which only the model can take."""
    if not TEXT_COLUMNS.issuperset(keys):
        return None
    return tuple(keys.index(k) if k in keys else None for k in ROW_KEYS)


_CELL_OF_KEY = cast(CellIndex, _cell_of_key(_ROW_CELLS))


class CellError(ValueError):
    """An input cell holds an Excel error value; the function says so instead of guessing."""


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip() in _EXCEL_ERRORS:
        raise CellError(value.strip())
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    return as_text(value)


@dataclass(frozen=True)
class _Form:
    """What the live functions need of one profile, worked out once: Excel passes its name on every call."""

    ctx: Context  # the profile alone, no year, dates or category: what the sheet summary checks with
    columns: tuple[str, ...]  # the indicator table's keys, in the form's order
    cell_of_key: CellIndex | None  # ``_cell_of_key`` of the columns
    amount_labels: tuple[str, ...]  # the labels of LIVE_AMOUNTS on this form, with its money unit

    @property
    def name(self) -> str:
        return self.ctx.profile.name


@cache
def _form_named(name: str) -> _Form:
    profile = load_profile(name)  # UnknownProfileError is raised, not remembered
    columns = tuple(c.key for c in profile.form.table.columns)
    return _Form(Context(profile), columns, _cell_of_key(columns), tuple(profile.label(path) for path in LIVE_AMOUNTS))


def _form(profile: Any) -> _Form:
    name = _text(profile) or DEFAULT_PROFILE
    try:
        return _form_named(name)
    except UnknownProfileError as exc:
        raise CellError(f"未知的表式版本“{name}”") from exc


def _shown(verdicts: Iterable[tuple[Severity, str]]) -> str:
    """"✓", or the messages of the errors and warnings joined by "；" (infos are not shown in a cell)."""
    shown = [message for severity, message in verdicts if severity in SHOWN]
    return SEPARATOR.join(shown) if shown else OK


def _messages(findings: list[Finding]) -> str:
    return _shown((f.severity, f.message) for f in findings)


def _error_text(exc: CellError) -> str:
    return f"单元格含错误值（{exc}）" if str(exc).startswith("#") else str(exc)


def _cell(value: Any) -> str | None:
    """A text cell as the model keeps it (trimmed, control characters dropped); CellError for an error value."""
    if value is None:  # most optional cells, on every recalculation
        return None
    if value.__class__ is str and len(value) <= MAX_CELL_CHARS and (
            value.isprintable() or ("\r" not in value and not has_controls(value))):
        # Plain text, as most cells are: nothing for ``_converted_cell`` to convert, drop or unify but the trim.
        # (A printable text holds no line break and no control character: one C call tells most cells.)
        text = value.strip()
        if text in _EXCEL_ERRORS:
            raise CellError(text)
        return text or None
    return _converted_cell(value)


def _converted_cell(value: Any) -> str | None:
    """``_cell`` for any value: a number or date as text, control characters dropped, line breaks unified."""
    text = _text(value)
    return None if text is None else clean_text(strip_controls(text))


@lru_cache(maxsize=64, typed=True)
def _plan(year: Any, end_date: Any) -> tuple[int | None, dt.date | None]:
    """The form's year and completion date as the rules take them, or neither when either cannot be read (the
    row is then checked without them). Remembered: every row of a sheet passes the same two cells."""
    try:
        return as_year(_text(year)), as_date(_text(end_date))
    except ValueError:  # CellError included
        return None, None


def _plan_of(year: Any, end_date: Any) -> tuple[int | None, dt.date | None]:
    try:
        return _plan(year, end_date)
    except TypeError:  # a range, which cannot key the memory
        return _plan.__wrapped__(year, end_date)


@lru_cache(maxsize=16384)
def _indicator_text(cells: Cells, profile: str, year: int | None, end_date: dt.date | None) -> str:
    """What PG_CHECK_INDICATOR shows for a row's cells, remembered: Excel recalculates every row when one cell
    changes, and the same rows recur in form after form. The cells are as the model keeps them (``_cell``), so
    the rules read them as a row without an Indicator model made and validated again."""
    row: Row = tuple(None if i is None else cells[i] for i in _CELL_OF_KEY)
    verdicts = row_verdicts(row, Context(load_profile(profile), year, None, end_date))
    return _shown((severity, message) for _, severity, message, _ in verdicts)


@xw.func
def PG_CHECK_INDICATOR(level1: Any, level2: Any, indicator_name: Any, target: Any, end_date: Any = None,
                       year: Any = None, profile: Any = None, comparator: Any = None, unit: Any = None) -> str:
    """One indicator row: "✓", or its problems joined by "；". A blank row gives "".

    ``end_date`` and ``year`` (the form's 计划完成日期 and 年度) let time limits be checked as ``check`` does;
    ``comparator`` and ``unit`` are the row's 指标性质 / 计算符号 and 度量单位 cells where the form has them."""
    try:
        cells = (_cell(level1), _cell(level2), _cell(indicator_name), _cell(target), _cell(comparator), _cell(unit))
        form = _form(profile)
    except CellError as exc:
        return _error_text(exc)
    if not any(cells):
        return ""
    return _indicator_text(cells, form.name, *_plan_of(year, end_date))


@xw.func
def PG_TARGET_PARTS(target: Any) -> list[list[Any]]:
    """[comparator, number, unit] of a target; a qualitative one gives ["定性", "", text]."""
    try:
        text = _text(target)
    except CellError as exc:
        return [[_error_text(exc), "", ""]]
    parts = parse_target(text)
    if parts.kind == "empty":
        return [["", "", ""]]
    if parts.kind == "qualitative":
        return [[QUALITATIVE, "", parts.text or ""]]
    if parts.kind == "deadline":
        due = parts.deadline(dt.date.today().year)
        return [[parts.comparator or "", due.isoformat() if due else "", "日期"]]
    number: Any = "" if parts.number is None else _number(parts.number)
    return [[parts.comparator or "", number, parts.unit or ""]]


def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def _budget(values: tuple[Any, ...], form: _Form) -> tuple[Budget | None, list[str]]:
    """The amounts Excel passes, in the form's unit (元 or 万元), as the model's Budget in 元; or the problems."""
    unit = form.ctx.profile.money_unit
    amounts: dict[str, Decimal | None] = {}
    problems = []
    for path, label, value in zip(LIVE_AMOUNTS, form.amount_labels, values, strict=True):
        try:
            if isinstance(value, str) and value.strip() in _EXCEL_ERRORS:
                raise CellError(value.strip())
            amounts[path.removeprefix("budget.")] = as_money(value, unit)
        except CellError as exc:
            problems.append(f"{label}：{_error_text(exc)}")
        except ValueError:
            problems.append(AMOUNT_UNPARSEABLE.finding(label=label, value=_text(value), unit=unit).message)
    if problems:
        return None, problems
    try:
        return Budget(**amounts), []
    except ValueError:  # pydantic's ValidationError: an amount only pydantic could take, and it refused
        return None, [AMOUNT_UNPARSEABLE.title]


@xw.func
def PG_CHECK_BUDGET(total: Any, current_year: Any, prior_year_budget: Any, prior_year_executed: Any,
                    profile: Any = None) -> str:
    """The four amounts, in the form's unit: "✓", or their problems joined by "；"."""
    try:
        form = _form(profile)
    except CellError as exc:
        return _error_text(exc)
    budget, problems = _budget((total, current_year, prior_year_budget, prior_year_executed), form)
    if budget is None:
        return SEPARATOR.join(problems)
    return _messages(check_budget(budget, form.ctx))


def _rows(indicators: Any, width: int) -> tuple[Cells, ...]:
    """The table's rows that are not blank, each cut or padded to the form's columns, cells as the model keeps them."""
    rows = []
    for row in indicators or []:
        if row is not None:
            values = list(row)[:width]
            cells = tuple(map(_cell, values)) + (None,) * (width - len(values))
            if any(cells):
                rows.append(cells)
    return tuple(rows)


@lru_cache(maxsize=4096)  # rows of the sheets open
def _row_counts(cells: Cells, profile: str) -> tuple[Row, int, int]:
    """A table row as the model holds it, with its errors and warnings, remembered by its cells: the summary
    recounts every row on each recalculation. The cells are as the model keeps them (``_cell``), so they are the
    row as they stand; a form with a column only the model can take (a period) has a model made of them."""
    form = _form_named(profile)
    index = form.cell_of_key
    if index is None:  # ValueError: a cell the model cannot hold
        row = row_of(Indicator(**dict(zip(form.columns, cells, strict=True))))
    else:
        row = tuple(None if i is None else cells[i] for i in index)
    severities = row_severities(row, form.ctx)
    return row, severities.count(Severity.ERROR), severities.count(Severity.WARNING)


@lru_cache(maxsize=256)
def _table_counts(rows: tuple[Cells, ...], profile: str) -> tuple[int, int]:
    """Errors and warnings of a whole indicator table: its rows' and those of the rules over the table (G…)."""
    counted = [_row_counts(cells, profile) for cells in rows]
    found = table_severities([row for row, _, _ in counted], _form_named(profile).ctx)
    return (sum(errors for _, errors, _ in counted) + found.count(Severity.ERROR),
            sum(warnings for _, _, warnings in counted) + found.count(Severity.WARNING))


@xw.func
@xw.arg("indicators", ndim=2)
def PG_SHEET_SUMMARY(indicators: Any, total: Any = None, current_year: Any = None,
                     prior_year_budget: Any = None, prior_year_executed: Any = None, profile: Any = None) -> str:
    """Counts for the whole indicator table and budget block: "✓", or "错误 n 条，警告 m 条".

    ``indicators`` is the table's range, its columns in the profile's order (一级指标, 二级指标, …)."""
    try:
        form = _form(profile)
        rows = _rows(indicators, len(form.columns))
        errors, warnings = _table_counts(rows, form.name)
        budget = _budget((total, current_year, prior_year_budget, prior_year_executed), form)[0]
    except CellError as exc:
        return _error_text(exc)
    except ValueError:  # pydantic's ValidationError included: a cell the model cannot hold
        return "指标表含无法识别的内容，请查看各行校验"
    if budget is None:
        return "预算金额无法识别，请查看预算校验"
    found = [f.severity for f in check_budget(budget, form.ctx)]
    errors += found.count(Severity.ERROR)
    warnings += found.count(Severity.WARNING)
    if not errors and not warnings:
        return OK
    return tally({Severity.ERROR: errors, Severity.WARNING: warnings}, SHOWN)


LIVE_FUNCTIONS = (PG_CHECK_INDICATOR, PG_TARGET_PARTS, PG_CHECK_BUDGET, PG_SHEET_SUMMARY)
