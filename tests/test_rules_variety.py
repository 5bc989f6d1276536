"""The rules the variety of forms brings (issue 9, point 7): rates, comparator and unit columns, negations,
deadlines, carried-over projects, and one verdict per cell — and the live functions that run the same rules."""

from __future__ import annotations

import copy
import datetime as dt
import inspect
import pickle
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter import canonical, rules
from converter.findings import Severity
from converter.model import Declaration, Indicator, built, fields_of, indicator_row
from converter.profile import UnknownProfileError, load_profile, profile_names
from converter.pydantic_model import pydantic_of, validated_values
from converter.rule_facts import (
    form_facts,
    is_budget_rate_name,
    is_change_rate_name,
    is_measure_name,
    is_rate_name,
    is_satisfaction_name,
    name_facts,
)
from converter.rules import (
    CATALOGUE,
    Context,
    check,
    check_indicator,
    is_carried_over,
    row_key,
    row_of,
    vague_term,
)
from xl_addin import functions

SH = load_profile("shanghai-2020")
NATIONAL = load_profile("national-2021")


def codes(ind: Indicator, ctx: Context | None = None) -> list[str]:
    return [f.code for f in check_indicator(ind, ctx or Context(SH, 2020))]


def row(name: str, target: str | None, comparator: str | None = None, unit: str | None = None,
        period: str | None = None) -> Indicator:
    return Indicator(level1="产出目标", level2="质量", name=name, target=target, comparator=comparator, unit=unit,
                     period=period)


# --- rates ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["营业收入增长率", "投诉下降率", "能耗降低率", "客流增幅率", "用户数同比增长率",
                                  "价格变化率"])
def test_growth_and_change_rates_may_exceed_100(name: str) -> None:
    assert codes(row(name, "≥150%")) == []


@pytest.mark.parametrize(("name", "target"), [("项目完成率", "≥120%"), ("验收合格率", "105%"),
                                              ("预算执行率", "=101%"), ("服务对象满意度", "≥100.5%"),
                                              ("验收合格率", "＞100％")])
def test_completion_over_100_is_one_error_of_its_own(name: str, target: str) -> None:
    assert codes(row(name, target)) == ["I017"]  # never also "no comparator" for the same cell


def test_percentage_without_comparator_is_a_warning() -> None:
    found = check_indicator(row("验收合格率", "95%"), Context(SH))
    assert [(f.code, f.severity) for f in found] == [("I018", Severity.WARNING)]
    assert codes(row("覆盖比例", "95%")) == ["I018"]  # any percentage, not only a name with 率
    assert codes(row("工作效率", "提高30%")) == []  # the comparison said in words
    assert codes(row("验收合格率", "高")) == ["I008"] and CATALOGUE["I008"].severity == Severity.ERROR
    assert codes(row("服务对象满意度", "90")) == ["I009"] and CATALOGUE["I009"].severity == Severity.ERROR


# --- comparator and unit columns ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "comparator", "target", "unit"),
    [("验收合格率", "≥", "95", "%"), ("验收合格率", "＞", "95", "％"), ("验收合格率", ">=", "95", "%"),
     ("服务对象满意度", "≥", "90", "%"), ("制度健全性", "定性", "健全", None), ("培训人次", "≥", "100", "人次"),
     ("数据检查次数", "＝", "12", "次"), ("验收合格率", "＝", "100", "百分比")],
)
def test_columns_satisfy_the_rules(name: str, comparator: str, target: str, unit: str | None) -> None:
    ind = Indicator(level1="产出指标", level2="质量指标", name=name, comparator=comparator, target=target, unit=unit)
    assert codes(ind, Context(NATIONAL, 2021)) == []


def test_columns_are_judged_like_the_target_text() -> None:
    ctx = Context(NATIONAL, 2021)

    def national(name: str, comparator: str | None, target: str, unit: str | None) -> list[str]:
        return codes(Indicator(level1="产出指标", level2="质量指标", name=name, comparator=comparator,
                               target=target, unit=unit), ctx)

    assert national("验收合格率", "≥", "120", "%") == ["I017"]
    assert national("验收合格率", None, "95", "%") == ["I018"]
    assert national("验收合格率", "≥", "95", None) == ["I008"]
    assert national("数据检查次数", "≥", "12", None) == ["I014"]
    assert national("数据检查次数", "定性", "较多", None) == ["I012"]
    assert national("验收合格率", "约", "95", "%") == ["I019"]  # not also I018 for the same cell
    found = check_indicator(Indicator(level1="产出指标", level2="质量指标", name="验收合格率", target="95", unit="%"),
                            ctx, 3)
    assert [(f.code, f.field) for f in found] == [("I018", "indicators[3].comparator")]  # the cell to fill


# --- vague targets and negations ------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["无明显影响", "不产生明显污染", "未发生明显下降", "服务质量不降低",
                                    "无任何明显变化", "投诉无增加", "零事故，无明显影响"])
def test_negations_are_not_vague(target: str) -> None:
    assert vague_term(target) is None
    assert codes(row("环境影响", target)) == []


@pytest.mark.parametrize(("target", "term"), [("不断提高", "提高"), ("无线网络覆盖明显提升", "明显"),
                                              ("无明显影响，服务水平进一步提升", "进一步提升"),
                                              ("明显改善", "明显改善")])
def test_vague_terms_outside_a_negation_are_found(target: str, term: str) -> None:
    assert vague_term(target) == term
    assert codes(row("社会影响", target)) == ["I013"]


# --- deadlines, dates and carried-over projects -----------------------------------------------------------------
@pytest.mark.parametrize("category", ["结转项目", "延续性项目"])
def test_carried_over_projects_are_not_warned_for_other_years(category: str) -> None:
    decl = Declaration(profile="shanghai-2020", year=2020, project={"name": "结转", "category": category,
                                                                   "start_date": dt.date(2017, 3, 1),
                                                                   "end_date": dt.date(2022, 12, 31)},
                       indicators=[row("年度报告完成时间", "2021年6月底前")])
    found = [f.code for f in check(decl)]
    assert "D002" not in found and "I016" not in found
    decl.project.category = "经常性专项业务费"
    found = [f.code for f in check(decl)]
    assert found.count("D002") == 2 and "I016" in found


def test_carried_over_still_ends_by_the_plan() -> None:
    ctx = Context(SH, 2020, None, dt.date(2020, 12, 31), carried_over=True)
    assert codes(row("年度报告完成时间", "2021年6月底前"), ctx) == ["I016"]
    assert codes(row("年度报告完成时间", "2020年底前"), ctx) == []


def test_attribute_延续_is_carried_over() -> None:
    assert is_carried_over(None, "延续") and is_carried_over("结转项目", None)
    assert not is_carried_over("经常性专项业务费", "新增") and not is_carried_over(None, None)
    decl = Declaration(profile="national-2021", year=2021, project={"name": "x", "attribute": "延续"})
    assert Context.of(decl).carried_over


def test_long_term_indicators_may_fall_in_later_years() -> None:
    ctx = Context(SH, 2021)
    assert codes(row("平台建成时间", "2023年底前", period="long_term"), ctx) == []
    assert codes(row("平台建成时间", "2023年底前", period="annual"), ctx) == ["I016"]


@pytest.mark.parametrize("name", profile_names())
def test_date_window_follows_the_profile(name: str) -> None:
    around = load_profile(name).thresholds.date_years_around
    decl = Declaration(profile=name, year=2027, project={"name": "x", "start_date": dt.date(2027 - around, 1, 1),
                                                         "end_date": dt.date(2027 + around, 12, 31)})
    assert "D002" not in [f.code for f in check(decl)]
    decl.project.end_date = dt.date(2027 + around + 1, 1, 1)
    assert [f.field for f in check(decl) if f.code == "D002"] == ["project.end_date"]
    decl.year = None
    assert "D002" not in [f.code for f in check(decl)]


# --- one verdict per cell -------------------------------------------------------------------------------------------
NAMES = ["预算执行率", "验收合格率", "服务对象满意度", "营业收入增长率", "数据检查次数", "年度报告完成时间",
         "时间达标率", "预算执行率满意度", "环境影响", "制度健全性", "修缮面积", None]
TARGETS = ["≥95%", "95%", "120%", "≥120%", "=100%", ">100%", "≥75%", "≥80%", "90", ">=90", "健全", "明显改善",
           "无明显影响", "较多", "12月底前", "2021年6月", "≥200次", ">10000", "1344m²", "提高30%", "进一步提升10%",
           None]
COMPARATORS = [None, "≥", "＞", "＝", "定性", "约", "定量（其他）"]
UNITS = [None, "%", "％", "个", "次"]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(NAMES), st.sampled_from(TARGETS), st.sampled_from(COMPARATORS), st.sampled_from(UNITS),
       st.sampled_from([None, "long_term", "annual"]), st.booleans(),
       st.sampled_from(["shanghai-2020", "national-2021", "county-2016"]))
def test_no_two_rules_judge_the_same_cell(name: str | None, target: str | None, comparator: str | None,
                                          unit: str | None, period: str | None, carried: bool, profile: str) -> None:
    ctx = Context(load_profile(profile), 2020, None, dt.date(2020, 12, 31), carried)
    ind = Indicator(level1="产出目标", level2="质量", name=name, target=target, comparator=comparator, unit=unit,
                    period=period)
    fields = [f.field for f in check_indicator(ind, ctx)]
    assert len(fields) == len(set(fields)), [(f.code, f.field) for f in check_indicator(ind, ctx)]


# --- the caches key rows by everything a rule reads -----------------------------------------------------------------
def test_row_key_holds_every_column() -> None:
    ind = Indicator(level1="a", level2="b", name="验收合格率", comparator="≥", target="95", unit="%", direction="正向",
                    weight="10", history="90%", note="说明", period="annual")
    keys = [d.name for d in fields_of(Indicator)]
    assert row_of(ind) == tuple(getattr(ind, k) for k in keys)
    scrambled = dict(reversed(list(ind.__dict__.items())))
    assigned = copy.copy(ind)
    assigned.unit, assigned.level1 = "次", "x"
    pydantic = pydantic_of(Indicator)
    for made in (Indicator(**scrambled), built(Indicator, validated_values(Indicator, scrambled)),
                 Indicator(**{**scrambled, "note": "a\tb"}),  # a tab: taken by clean_text itself
                 replace(ind, note="n", level1="y"), assigned, copy.deepcopy(ind), pickle.loads(pickle.dumps(ind)),
                 Indicator(note="n", level1="x"), indicator_row("a", None, "b", "c", None),
                 built(Indicator, validated_values(Indicator, pydantic.model_validate_json(
                     pydantic(**scrambled).model_dump_json()).__dict__)),
                 canonical.loads(canonical.dumps(Declaration(profile="x", indicators=[ind])))[0].indicators[0]):
        assert row_of(made) == tuple(getattr(made, k) for k in keys)  # however it was made
    assert row_key(name="验收合格率", target="95") == row_of(Indicator(name="验收合格率", target="95"))
    with pytest.raises(TypeError):
        row_key(nme="x")
    place = {"level1": "产出指标", "level2": "质量指标", "name": "验收合格率", "comparator": "≥", "target": "95"}
    with_unit = check_indicator(Indicator(**place, unit="%"), Context(NATIONAL))
    without = check_indicator(Indicator(**place), Context(NATIONAL))
    assert with_unit == [] and [f.code for f in without] == ["I008"]


# --- the live functions -----------------------------------------------------------------------------------------
def test_live_indicator_check_takes_the_comparator_and_unit_cells() -> None:
    f = functions.PG_CHECK_INDICATOR
    assert f("产出指标", "质量指标", "验收合格率", 95.0, None, 2021.0, "national-2021", "≥", "%") == "✓"
    assert "百分数" in f("产出指标", "质量指标", "验收合格率", 95.0, None, 2021.0, "national-2021", "≥")
    assert "指标性质" in f("产出指标", "质量指标", "验收合格率", 95.0, None, 2021.0, "national-2021", None, "%")
    assert f("产出指标", "质量指标", "验收合格率", None, None, None, "national-2021", "#N/A") == \
        "单元格含错误值（#N/A）"
    assert f(None, None, None, None, None, None, "national-2021", None, None) == ""


def test_live_budget_check_speaks_the_forms_unit() -> None:
    assert functions.PG_CHECK_BUDGET(100.0, 200.0, None, None).startswith("项目当年预算 200.00 元大于")
    national = functions.PG_CHECK_BUDGET(100.0, 200.0, None, None, "national-2021")
    assert national == "年度资金总额 200.00 万元大于中期资金总额 100.00 万元"
    assert functions.PG_CHECK_BUDGET("12.345678", "12.345678", None, None, "national-2021") == "✓"
    assert "（万元）" in functions.PG_CHECK_BUDGET("abc", None, None, None, "national-2021")
    assert "（万元）" in functions.PG_CHECK_BUDGET("12.3456789", None, None, None, "national-2021")  # finer than 分
    assert functions.PG_CHECK_BUDGET(1, 1, 1, 1, "no-such-profile") == "未知的表式版本“no-such-profile”"


def test_live_amounts_are_the_first_budget_fields() -> None:
    params = list(inspect.signature(functions.PG_CHECK_BUDGET).parameters)
    assert [p.removeprefix("budget.") for p in functions.LIVE_AMOUNTS] == params[:4]
    summary = list(inspect.signature(functions.PG_SHEET_SUMMARY).parameters)
    assert summary[1:5] == params[:4]


def test_live_summary_reads_the_forms_columns() -> None:
    rows: list[list[object]] = [["产出指标", "数量指标", "培训人次", "≥", 100.0, "人次"],
            ["效益指标", "社会效益指标", "覆盖率", None, 95.0, "%"],
            ["满意度指标", "服务对象满意度指标", "服务对象满意度", "≥", 90.0, "%"],
            ["成本指标", "经济成本指标", "单位成本", "≤", 5.0, "万元"]]
    assert functions.PG_SHEET_SUMMARY(rows, 100.0, 50.0, None, None, "national-2021") == "错误 0 条，警告 1 条"
    rows[1][3] = "≥"
    assert functions.PG_SHEET_SUMMARY(rows, 100.0, 50.0, None, None, "national-2021") == "✓"
    assert functions.PG_SHEET_SUMMARY(rows, 100.0, 150.0, None, None, "national-2021") == "错误 1 条，警告 0 条"


def test_amount_text_is_exact_in_wan() -> None:
    from converter.rules import amount_text
    assert amount_text(Decimal("1234567.89"), NATIONAL) == "123.456789"
    assert amount_text(Decimal("1000000.00"), NATIONAL) == "100.00"
    assert amount_text(Decimal("-1.00"), NATIONAL) == "-0.0001"
    assert amount_text(Decimal("1234567.80"), SH) == "1234567.80"


# --- one pass per row over facts worked out once (issue 13) -----------------------------------------------------------
def test_a_remembered_row_is_judged_against_each_plan() -> None:
    """What the rules say of a row's content is remembered across declarations; a time limit is still held to each
    declaration's own year and completion date, whichever was checked first."""
    due = row("评估完成时间", "2020年12月底前")
    plans = [(Context(SH, 2020, None, dt.date(2020, 6, 30)), "晚于计划完成日期 2020-06-30"),
             (Context(SH, 2020, None, dt.date(2020, 12, 31)), None),
             (Context(SH, 2021, None, dt.date(2021, 12, 31)), "不在申报年度 2021 内"),
             (Context(SH, 2021, None, dt.date(2021, 12, 31), True), None)]
    for ctx, problem in [*plans, *reversed(plans), *plans]:
        found = check_indicator(due, ctx)
        if problem is None:
            assert found == []
        else:
            assert [f.code for f in found] == ["I016"] and found[0].message.endswith(problem)


def test_the_same_row_at_two_places_is_named_by_each() -> None:
    same = Indicator(level2="质量", name="验收合格率", target="≥95%")
    decl = Declaration(profile=SH.name, year=2020, indicators=[same, row("培训人次", "≥100人次"), same])
    i001 = [f for f in check(decl) if f.code == "I001"]
    assert [(f.field, f.message) for f in i001] == [("indicators[0].level1", "第1行指标的一级目标未填写"),
                                                    ("indicators[2].level1", "第3行指标的一级目标未填写")]


@pytest.mark.parametrize("name", profile_names())
def test_the_rules_index_of_levels_is_the_profiles(name: str) -> None:
    profile = load_profile(name)
    form = form_facts(name)
    odd = [None, "", " ", "不存在", "产出", "产出目标 "]
    for value in [*profile.all_level1_spellings(), *profile.all_level2_spellings(), *odd]:
        assert form.canonical_level1(value) == profile.canonical_level1(value)
        assert form.canonical_level2(value) == profile.canonical_level2(value)


_NAME_WORDS = st.sampled_from(["率", "效率", "频率", "满意度", "增长", "下降", "数量", "时间", "执行率", "到位率",
                               "金额", "完成", "项目", " ", "功率", "概率"])


@given(st.none() | st.lists(_NAME_WORDS, max_size=4).map("".join))
def test_a_names_facts_are_the_name_tests(name: str | None) -> None:
    assert name_facts(name) == (is_rate_name(name), is_satisfaction_name(name), is_change_rate_name(name),
                                is_measure_name(name), is_budget_rate_name(name))


def test_the_memory_of_rows_stays_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "MEMORY_ROWS", 3)
    names = [f"验收合格率（第{i}次）" for i in range(10)]
    first = [check_indicator(row(name, "95"), Context(SH)) for name in names]
    assert len(rules._MEMORIES[SH.name]) <= 3
    assert [check_indicator(row(name, "95"), Context(SH)) for name in names] == first  # judged afresh, the same
    assert all([f.code for f in found] == ["I008"] for found in first)
    with pytest.raises(UnknownProfileError):
        rules._said(row_key(name="x"), "no-such-profile")
    assert "no-such-profile" not in rules._MEMORIES
