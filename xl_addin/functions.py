"""Live indicator functions for Excel (xlwings UDFs), running the converter's own rule catalogue.

Signatures stay primitive: on Windows, type hints on UDF arguments become xlwings converters, and a model
or Decimal hint fails there. Each function takes what Excel passes (None for blanks, floats, datetimes,
error strings) and turns it into the model's terms itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import xlwings as xw
from pydantic import ValidationError

from converter.fields import BUDGET_FIELDS
from converter.findings import Finding, Severity
from converter.model import Budget, Declaration, Indicator, clean_text, strip_controls
from converter.profile import DEFAULT_PROFILE, UnknownProfileError, load_profile
from converter.readers.values import as_date, as_money, as_text, as_year
from converter.rules import (
    AMOUNT_UNPARSEABLE,
    Context,
    check_budget,
    check_indicator,
    check_table,
    indicator_findings,
    row_key,
)
from converter.targets import QUALITATIVE, parse_target

OK = "✓"
SEPARATOR = "；"
# The amounts PG_CHECK_BUDGET and PG_SHEET_SUMMARY take, in the order of their parameters (a test holds the names).
LIVE_AMOUNTS = BUDGET_FIELDS[:4]
EXCEL_ERRORS = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!")


class CellError(ValueError):
    """An input cell holds an Excel error value; the function says so instead of guessing."""


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
        raise CellError(value.strip())
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    return as_text(value)


def _context(profile: Any) -> Context:
    name = _text(profile) or DEFAULT_PROFILE
    try:
        return Context(load_profile(name))
    except UnknownProfileError as exc:
        raise CellError(f"未知的表式版本“{name}”") from exc


def _messages(findings: list[Finding]) -> str:
    shown = [f.message for f in findings if f.severity != Severity.INFO]
    return SEPARATOR.join(shown) if shown else OK


def _error_text(exc: CellError) -> str:
    return f"单元格含错误值（{exc}）" if str(exc).startswith("#") else str(exc)


def _cell(value: Any) -> str | None:
    """A text cell as the model keeps it (trimmed, control characters dropped); CellError for an error value."""
    if value is None:  # most optional cells, on every recalculation
        return None
    text = _text(value)
    return None if text is None else clean_text(strip_controls(text))


@xw.func
def PG_CHECK_INDICATOR(level1: Any, level2: Any, indicator_name: Any, target: Any, end_date: Any = None,
                       year: Any = None, profile: Any = None, comparator: Any = None, unit: Any = None) -> str:
    """One indicator row: "✓", or its problems joined by "；". A blank row gives "".

    ``end_date`` and ``year`` (the form's 计划完成日期 and 年度) let time limits be checked as ``check`` does;
    ``comparator`` and ``unit`` are the row's 指标性质 / 计算符号 and 度量单位 cells where the form has them."""
    try:
        row = row_key(level1=_cell(level1), level2=_cell(level2), name=_cell(indicator_name), target=_cell(target),
                      comparator=_cell(comparator), unit=_cell(unit))
        base = _context(profile)
    except CellError as exc:
        return _error_text(exc)
    if not any(row):
        return ""
    try:
        ctx = Context(base.profile, as_year(_text(year)), None, as_date(_text(end_date)))
    except (CellError, ValueError):
        ctx = base  # a year or date that cannot be read: check the row without them
    # Rows already seen are remembered by the rules: Excel recalculates every row when one cell changes.
    return _messages(list(indicator_findings(row, ctx.profile.name, ctx.year, ctx.end_date)))


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


def _budget(values: tuple[Any, ...], ctx: Context) -> tuple[Budget | None, list[str]]:
    """The amounts Excel passes, in the form's unit (元 or 万元), as the model's Budget in 元; or the problems."""
    amounts: dict[str, Decimal | None] = {}
    problems = []
    for path, value in zip(LIVE_AMOUNTS, values, strict=True):
        label = ctx.profile.label(path)
        try:
            if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
                raise CellError(value.strip())
            amounts[path.removeprefix("budget.")] = as_money(value, ctx.profile.money_unit)
        except CellError as exc:
            problems.append(f"{label}：{_error_text(exc)}")
        except ValueError:
            problems.append(AMOUNT_UNPARSEABLE.finding(label=label, value=_text(value),
                                                       unit=ctx.profile.money_unit).message)
    if problems:
        return None, problems
    try:
        return Budget(**amounts), []
    except ValidationError:
        return None, [AMOUNT_UNPARSEABLE.title]


@xw.func
def PG_CHECK_BUDGET(total: Any, current_year: Any, prior_year_budget: Any, prior_year_executed: Any,
                    profile: Any = None) -> str:
    """The four amounts, in the form's unit: "✓", or their problems joined by "；"."""
    try:
        ctx = _context(profile)
    except CellError as exc:
        return _error_text(exc)
    budget, problems = _budget((total, current_year, prior_year_budget, prior_year_executed), ctx)
    if budget is None:
        return SEPARATOR.join(problems)
    return _messages(check_budget(budget, ctx))


@xw.func
@xw.arg("indicators", ndim=2)
def PG_SHEET_SUMMARY(indicators: Any, total: Any = None, current_year: Any = None,
                     prior_year_budget: Any = None, prior_year_executed: Any = None, profile: Any = None) -> str:
    """Counts for the whole indicator table and budget block: "✓", or "错误 n 条，警告 m 条".

    ``indicators`` is the table's range, its columns in the profile's order (一级指标, 二级指标, …)."""
    try:
        ctx = _context(profile)
        keys = [c.key for c in ctx.profile.form.table.columns]
        rows = [[_cell(v) for v in (list(row) + [None] * len(keys))[:len(keys)]]
                for row in (indicators or []) if row is not None]
        table = [Indicator(**dict(zip(keys, r, strict=True))) for r in rows if any(r)]
        budget = _budget((total, current_year, prior_year_budget, prior_year_executed), ctx)[0]
    except CellError as exc:
        return _error_text(exc)
    except ValueError:  # pydantic's ValidationError included: a cell the model cannot hold
        return "指标表含无法识别的内容，请查看各行校验"
    if budget is None:
        return "预算金额无法识别，请查看预算校验"
    decl = Declaration(profile=ctx.profile.name, budget=budget, indicators=table)
    found = [f for i, ind in enumerate(table) for f in check_indicator(ind, ctx, i)]
    found += check_budget(budget, ctx) + check_table(decl, ctx)
    errors = sum(f.severity == Severity.ERROR for f in found)
    warnings = sum(f.severity == Severity.WARNING for f in found)
    if not errors and not warnings:
        return OK
    return f"错误 {errors} 条，警告 {warnings} 条"


LIVE_FUNCTIONS = (PG_CHECK_INDICATOR, PG_TARGET_PARTS, PG_CHECK_BUDGET, PG_SHEET_SUMMARY)
