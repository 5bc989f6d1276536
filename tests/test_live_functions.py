"""The live functions' quick paths (issue 13, point 5) give what the rule catalogue gives the slow way: plain
text cells taken as they are, verdicts as plain data instead of Finding models, each row checked once and
remembered by its cells. bench/functions.py measures them; these tests hold them to the catalogue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.findings import Severity
from converter.model import MAX_CELL_CHARS, Budget, Declaration, Indicator
from converter.profile import load_profile, profile_names
from converter.readers.values import as_money
from converter.rules import (
    Context,
    check,
    check_budget,
    check_indicator,
    row_of,
    row_severities,
    row_verdicts,
)
from xl_addin import functions

# Words the forms are made of, so that drawn rows trigger rules and not only "no such level 1".
NAMES = ("预算执行率", "资金到位率", "服务对象满意度", "培训人次", "完成时间", "覆盖率", "增长率", "验收合格率",
         "数据归集数量", "信息公开", "社会效益", "单位成本")
TARGETS = ("≥90%", "95", "≥95", ">=90", "100%", ">100%", "150%", "12月底前", "2021年底前", "2020年6月30日前",
           "进一步提升", "无明显影响", "健全", "≥100人次", "5万元", "≥80%", "＞＝95％")
COMPARATORS = ("≥", "≤", "＝", "定性", "定量", "x")
UNITS = ("%", "人次", "百分比", "元")


def _words(profile: str) -> dict[str, tuple[str, ...]]:
    p = load_profile(profile)
    level1 = tuple(s for lv in p.levels for s in (lv.name, *lv.aliases))
    level2 = tuple(l2.name for lv in p.levels for l2 in lv.level2)
    return {"level1": (*level1, "产出目标", "效果目标"), "level2": (*level2, "数量", "满意度"), "name": NAMES,
            "target": TARGETS, "comparator": COMPARATORS, "unit": UNITS}


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)


@st.composite
def table_rows(draw: st.DrawFn, profile: str) -> list[list[str | None]]:
    """Rows of a profile's table as Excel passes them: mostly the form's own words, sometimes anything."""
    words = _words(profile)
    keys = [c.key for c in load_profile(profile).form.table.columns]
    return [[draw(st.none() | st.sampled_from(words.get(k, TARGETS)) | _TEXT) for k in keys]
            for _ in range(draw(st.integers(0, 12)))]


_CELLS = st.none() | st.text(max_size=12) | st.sampled_from(
    ["#N/A", " #REF! ", "  ", "\r\n", "a\r\nb", "\x01 x", "\x1c", "\u2028y\u2028", "\ufffe", " 产出目标 ", "x" * 40000,
     " " + "y" * MAX_CELL_CHARS])


@given(_CELLS)
def test_plain_text_cells_take_a_short_way_to_the_same_value(value: str | None) -> None:
    def outcome(fn: object) -> object:
        try:
            return fn(value)  # type: ignore[operator]
        except ValueError as exc:  # CellError included
            return type(exc), str(exc)

    assert outcome(functions._cell) == outcome(functions._converted_cell)


@settings(max_examples=200, deadline=None)
@given(st.lists(_CELLS | st.sampled_from([95.0, 0.9, 2021.0, dt.datetime(2020, 1, 1), True]), min_size=6, max_size=6))
def test_a_rows_cells_are_the_row_its_model_holds(values: list[object]) -> None:
    """PG_CHECK_INDICATOR, and PG_SHEET_SUMMARY on every form, hand the rules their cells as a row without making an
    Indicator: the row that model holds."""
    try:
        cells = tuple(map(functions._cell, values))
    except ValueError:  # an Excel error value, or more than a cell holds: the function says so before any rule
        return
    ind = Indicator(**{key: v for key, v in zip(functions._ROW_CELLS, cells, strict=True) if v is not None})
    assert row_of(ind) == tuple(None if i is None else cells[i] for i in functions._CELL_OF_KEY)
    for profile in profile_names():
        form = functions._form_named(profile)
        assert form.cell_of_key is not None  # every form's table is text columns: no model made in the summary
        row = cells[:len(form.columns)]
        ind = Indicator(**dict(zip(form.columns, row, strict=True)))
        assert row_of(ind) == tuple(None if i is None else row[i] for i in form.cell_of_key)


def test_a_column_only_the_model_takes_has_the_summary_make_the_model() -> None:
    """A form whose table had a column no text cell fills as it stands (a period) would have each row's model
    made, and a cell the model refuses counted as unreadable."""
    assert functions._cell_of_key(("level1", "name", "period")) is None
    assert functions._cell_of_key(("level1", "name", "weight")) is not None


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(profile_names()), st.data())
def test_the_summary_through_the_model_counts_the_same(profile: str, data: st.DataObject) -> None:
    """The summary's way for such a form (each row's model made) counts as its way from the cells does."""
    rows = data.draw(table_rows(profile))
    direct = functions.PG_SHEET_SUMMARY(rows, 100.0, 50.0, None, None, profile)
    named = functions._form_named
    through_model = dataclasses.replace(named(profile), cell_of_key=None)
    functions._row_counts.cache_clear()
    functions._table_counts.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(functions, "_form_named", lambda name: through_model if name == profile else named(name))
            assert functions.PG_SHEET_SUMMARY(rows, 100.0, 50.0, None, None, profile) == direct
    finally:
        functions._row_counts.cache_clear()
        functions._table_counts.cache_clear()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(profile_names()), st.data(), st.none() | st.integers(2018, 2023),
       st.none() | st.dates(dt.date(2019, 1, 1), dt.date(2022, 12, 31)), st.booleans())
def test_row_verdicts_as_plain_data_are_check_indicators(profile: str, data: st.DataObject, year: int | None,
                                                         end: dt.date | None, carried_over: bool) -> None:
    keys = [c.key for c in load_profile(profile).form.table.columns]
    ctx = Context(load_profile(profile), year, None, end, carried_over)
    for index, cells in enumerate(data.draw(table_rows(profile))):
        ind = Indicator(**dict(zip(keys, cells, strict=True)))
        findings = check_indicator(ind, ctx, index)
        # what the live functions show (row_verdicts) and count (row_severities), as plain data
        assert [(s, m) for _, s, m, _ in row_verdicts(row_of(ind), ctx, index)] == \
            [(f.severity, f.message) for f in findings]
        assert row_severities(row_of(ind), ctx) == [f.severity for f in findings]


def _expected_summary(rows: list[list[str | None]], amounts: tuple[float | None, ...], profile: str) -> str:
    """What the summary said before it counted plain data: every finding built, then counted (a cell holding an
    Excel error value is reported as that, before any rule)."""
    for row in rows:
        for v in row:
            if isinstance(v, str) and v.strip() in functions.EXCEL_ERRORS:
                return functions._error_text(functions.CellError(v.strip()))
    p = load_profile(profile)
    ctx = Context(p)
    keys = [c.key for c in p.form.table.columns]
    table = [Indicator(**dict(zip(keys, r, strict=True))) for r in rows if any(r)]
    budget = Budget(**{path.removeprefix("budget."): as_money(v, p.money_unit)
                       for path, v in zip(functions.LIVE_AMOUNTS, amounts, strict=True)})
    found = [f for i, ind in enumerate(table) for f in check_indicator(ind, ctx, i)]
    over_table = check(Declaration(profile=profile, budget=budget, indicators=table))
    found += check_budget(budget, ctx) + [f for f in over_table if f.code.startswith("G")]
    errors = sum(f.severity == Severity.ERROR for f in found)
    warnings = sum(f.severity == Severity.WARNING for f in found)
    return "✓" if not errors and not warnings else f"错误 {errors} 条，警告 {warnings} 条"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(profile_names()), st.data(),
       st.lists(st.none() | st.sampled_from([50.0, 100.0, 150.0, -1.0]), min_size=4, max_size=4))
def test_summary_counts_what_the_rules_find(profile: str, data: st.DataObject, amounts: list[float | None]) -> None:
    rows = data.draw(table_rows(profile))
    expected = _expected_summary(rows, tuple(amounts), profile)
    total, current, prior, executed = amounts
    assert functions.PG_SHEET_SUMMARY(rows, total, current, prior, executed, profile) == expected
    assert functions.PG_SHEET_SUMMARY(rows, total, current, prior, executed, profile) == expected  # remembered


def test_rows_are_remembered_per_profile_and_only_new_ones_checked() -> None:
    rows: list[list[object]] = [["产出指标", "数量指标", "培训人次（记忆测试）", "≥", 100.0, "人次"],
                                ["效益指标", "社会效益指标", "覆盖率（记忆测试）", None, 95.0, "%"]]
    national = functions.PG_SHEET_SUMMARY(rows, 100.0, 50.0, None, None, "national-2021")
    shanghai = functions.PG_SHEET_SUMMARY(rows, 100.0, 50.0, None, None, "shanghai-2020")
    assert national != shanghai  # the same cells mean other columns in another form
    texts = [[None if v is None else functions._cell(v) for v in r] for r in rows]
    assert national == _expected_summary(texts, (100.0, 50.0, None, None), "national-2021")
    assert shanghai == _expected_summary([r[:4] for r in texts], (100.0, 50.0, None, None), "shanghai-2020")
    before = functions._row_counts.cache_info().misses
    rows.append(["满意度指标", "服务对象满意度指标", "服务对象满意度（记忆测试）", "≥", 90.0, "%"])
    assert functions.PG_SHEET_SUMMARY(rows, 100.0, 50.0, None, None, "national-2021") == \
        _expected_summary([*texts, ["满意度指标", "服务对象满意度指标", "服务对象满意度（记忆测试）", "≥", "90", "%"]],
                          (100.0, 50.0, None, None), "national-2021")
    assert functions._row_counts.cache_info().misses == before + 1  # the two rows seen before were not checked again


def test_plan_cells_given_as_a_range_count_as_unreadable() -> None:
    """A range where one cell belongs cannot key the functions' memory; it is read (and found unreadable) as before."""
    row = ("产出目标", "时效", "评估完成时间（范围测试）", "2021年12月底前")
    with_year = functions.PG_CHECK_INDICATOR(*row, None, 2020.0)
    assert "不在申报年度 2020 内" in with_year
    without = functions.PG_CHECK_INDICATOR(*row)
    assert functions.PG_CHECK_INDICATOR(*row, None, [[2020.0]]) == without != with_year
    assert functions.PG_CHECK_INDICATOR(*row, [[dt.datetime(2021, 1, 1)]], 2020.0) == without


def test_summary_of_a_cell_longer_than_excel_holds() -> None:
    too_long = "x" * (MAX_CELL_CHARS + 1)
    summary = functions.PG_SHEET_SUMMARY([["产出目标", "数量", too_long, "1个"]])
    assert summary == "指标表含无法识别的内容，请查看各行校验"


def test_the_benchmark_runs_and_judges_every_function() -> None:
    """bench/functions.py, on a few calls, so that it cannot rot while the functions change under it."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "bench/functions.py", "--rounds", "1", "--calls", "12", "--tables", "1"],
                          capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    judged = [line for line in done.stdout.splitlines() if line.endswith(("met", "NOT met"))]
    assert [line.split()[0].rstrip(",") for line in judged] == \
        [f.__name__ for f in functions.LIVE_FUNCTIONS if f is not functions.PG_SHEET_SUMMARY] + ["PG_SHEET_SUMMARY"] * 2
    assert done.stdout.splitlines()[-1].startswith(("goals: all met", "goals NOT met"))
