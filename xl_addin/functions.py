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

from converter.findings import Finding, Severity
from converter.model import Budget, Declaration, Indicator, clean_text, strip_controls
from converter.profile import DEFAULT_PROFILE, UnknownProfileError, load_profile
from converter.readers.values import as_date, as_money, as_text, as_year
from converter.rules import AMOUNT_UNPARSEABLE, Context, check_budget, check_indicator, check_table, indicator_findings
from converter.targets import parse_target

OK = "✓"
SEPARATOR = "；"
QUALITATIVE = "定性"
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


@xw.func
def PG_CHECK_INDICATOR(level1: Any, level2: Any, indicator_name: Any, target: Any, end_date: Any = None,
                       year: Any = None, profile: Any = None) -> str:
    """One indicator row: "✓", or its problems joined by "；". A blank row gives "".

    ``end_date`` and ``year`` (the form's 计划完成日期 and 年度) let time limits be checked as ``check`` does."""
    try:
        values = [_text(v) for v in (level1, level2, indicator_name, target)]
        base = _context(profile)
    except CellError as exc:
        return _error_text(exc)
    values = [clean_text(strip_controls(v)) if v is not None else None for v in values]
    try:
        ctx = Context(base.profile, as_year(_text(year)), None, as_date(_text(end_date)))
    except (CellError, ValueError):
        ctx = base  # a year or date that cannot be read: check the row without them
    if not any(values):
        return ""
    # Rows already seen are remembered by the rules: Excel recalculates every row when one cell changes.
    return _messages(list(indicator_findings(*values, ctx.profile.name, ctx.year, ctx.end_date)))


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


@xw.func
def PG_CHECK_BUDGET(total: Any, current_year: Any, prior_year_budget: Any,
                    prior_year_executed: Any) -> str:
    """The four amounts: "✓", or their problems joined by "；"."""
    labels = list(Budget.model_fields)
    amounts: dict[str, Decimal | None] = {}
    problems = []
    for key, value in zip(labels, (total, current_year, prior_year_budget, prior_year_executed), strict=True):
        try:
            if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
                raise CellError(value.strip())
            amounts[key] = as_money(value)
        except CellError as exc:
            problems.append(f"{Budget.model_fields[key].title}：{_error_text(exc)}")
        except ValueError:
            label = Budget.model_fields[key].title
            problems.append(AMOUNT_UNPARSEABLE.finding(label=label, value=_text(value)).message)
    if problems:
        return SEPARATOR.join(problems)
    return _messages(check_budget(Budget(**amounts), Context(load_profile(DEFAULT_PROFILE))))


@xw.func
@xw.arg("indicators", ndim=2)
def PG_SHEET_SUMMARY(indicators: Any, total: Any = None, current_year: Any = None,
                     prior_year_budget: Any = None, prior_year_executed: Any = None, profile: Any = None) -> str:
    """Counts for the whole indicator table and budget block: "✓", or "错误 n 条，警告 m 条"."""
    try:
        ctx = _context(profile)
        rows = [[_text(v) for v in (list(row) + [None] * 4)[:4]] for row in (indicators or []) if row is not None]
        budget = Budget(**{k: as_money(None if isinstance(v, str) and v.strip() in EXCEL_ERRORS else v)
                           for k, v in zip(Budget.model_fields,
                                           (total, current_year, prior_year_budget, prior_year_executed),
                                           strict=True)})
    except CellError as exc:
        return _error_text(exc)
    except (ValueError, ValidationError):
        return "预算金额无法识别，请查看预算校验"
    table = [Indicator(level1=r[0], level2=r[1], name=r[2], target=r[3]) for r in rows if any(r)]
    decl = Declaration(profile=ctx.profile.name, budget=budget, indicators=table)
    found = [f for i, ind in enumerate(table) for f in check_indicator(ind, ctx, i)]
    found += check_budget(budget, ctx) + check_table(decl, ctx)
    errors = sum(f.severity == Severity.ERROR for f in found)
    warnings = sum(f.severity == Severity.WARNING for f in found)
    if not errors and not warnings:
        return OK
    return f"错误 {errors} 条，警告 {warnings} 条"


LIVE_FUNCTIONS = (PG_CHECK_INDICATOR, PG_TARGET_PARTS, PG_CHECK_BUDGET, PG_SHEET_SUMMARY)
