"""Every rule of the catalogue: one case that triggers it, and the clean form that does not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from converter.findings import Severity
from converter.model import Declaration, Indicator
from converter.profile import load_profile
from converter.rules import CATALOGUE, Context, check, check_budget, check_indicator


def clean() -> Declaration:
    """A declaration every rule accepts."""
    rows = [
        ("投入与管理", "投入管理", "预算执行率", "≥95%"),
        ("投入与管理", "财务管理", "财务管理制度健全性", "健全"),
        ("产出目标", "数量", "数据检查次数", "≥200次"),
        ("产出目标", "质量", "报告验收通过率", "=100%"),
        ("产出目标", "时效", "年度报告完成时间", "2020年11月底前"),
        ("效果目标", "社会效益", "信息公开覆盖部门", "≥12个"),
        ("效果目标", "满意度", "服务对象满意度", "≥90%"),
        ("影响力目标", "长效管理", "运维管理制度", "健全"),
    ]
    return Declaration(
        profile="shanghai-2020", year=2020, unit_name="上海市经济信息中心",
        project={
            "name": "测试项目", "category": "经常性专项业务费", "start_date": dt.date(2020, 1, 1),
            "end_date": dt.date(2020, 12, 1), "includes_government_procurement": False,
            "performance_type": "信息化建设工程类", "overview": "概况", "basis": "依据", "necessity": "必要性",
            "safeguards": "措施", "implementation_plan": "计划", "goals": "目标",
        },
        budget={"total": "100.00", "current_year": "100.00", "prior_year_budget": "90.00",
                "prior_year_executed": "80.00"},
        indicators=[Indicator(level1=a, level2=b, name=c, target=d) for a, b, c, d in rows],
    )


def _set_row(i: int, **values: str | None) -> Callable[[Declaration], None]:
    def mutate(d: Declaration) -> None:
        d.indicators[i] = d.indicators[i].model_copy(update=values)

    return mutate


def _add_row(level1: str | None, level2: str | None, name: str | None, target: str | None
             ) -> Callable[[Declaration], None]:
    def mutate(d: Declaration) -> None:
        d.indicators.append(Indicator(level1=level1, level2=level2, name=name, target=target))

    return mutate


def _project(**values: object) -> Callable[[Declaration], None]:
    def mutate(d: Declaration) -> None:
        for k, v in values.items():
            setattr(d.project, k, v)

    return mutate


def _budget(**values: object) -> Callable[[Declaration], None]:
    def mutate(d: Declaration) -> None:
        for k, v in values.items():
            setattr(d.budget, k, v)

    return mutate


def _drop(pred: Callable[[Indicator], bool]) -> Callable[[Declaration], None]:
    def mutate(d: Declaration) -> None:
        d.indicators = [i for i in d.indicators if not pred(i)]

    return mutate


def _unit(d: Declaration) -> None:
    d.unit_name = None


def _no_indicators(d: Declaration) -> None:
    d.indicators = []


TRIGGERS: dict[str, tuple[Callable[[Declaration], None], str]] = {
    "H001": (_project(overview=None), "project.overview"),
    "H002": (_unit, "unit_name"),
    "H003": (_project(category="其他经常性专项"), "project.category"),
    "H004": (_project(performance_type="其他经常性项目"), "project.performance_type"),
    "D001": (_project(end_date=dt.date(2019, 12, 31)), "project.end_date"),
    "D002": (_project(start_date=dt.date(2012, 1, 1)), "project.start_date"),
    "B001": (_budget(prior_year_executed=Decimal("-1")), "budget.prior_year_executed"),
    "B002": (_budget(current_year=Decimal("100.01")), "budget.current_year"),
    "B003": (_budget(prior_year_executed=Decimal("90.01")), "budget.prior_year_executed"),
    "I001": (_add_row(None, "数量", "数据量", "≥1条"), "indicators[8].level1"),
    "I002": (_set_row(7, level1="长远目标"), "indicators[7].level1"),
    "I003": (_add_row("产出目标", None, "数据量", "≥1条"), "indicators[8].level2"),
    "I004": (_set_row(7, level2="社会影响"), "indicators[7].level2"),
    "I005": (_set_row(7, level2="满意度"), "indicators[7].level2"),
    "I006": (_add_row("产出目标", "数量", None, "≥1条"), "indicators[8].name"),
    "I007": (_set_row(2, target=None), "indicators[2].target"),
    "I008": (_set_row(0, target="规范"), "indicators[0].target"),
    "I009": (_set_row(6, target=">=90"), "indicators[6].target"),
    "I010": (_set_row(6, target="≥75%"), "indicators[6].target"),
    "I011": (_set_row(0, target="≥80%"), "indicators[0].target"),
    "I012": (_set_row(2, target="较多"), "indicators[2].target"),
    "I013": (_set_row(5, target="明显改善"), "indicators[5].target"),
    "I014": (_set_row(5, target=">10000"), "indicators[5].target"),
    "I015": (_set_row(5, name="指" * 101), "indicators[5].name"),
    "I016": (_set_row(4, target="12月底前"), "indicators[4].target"),
    "G001": (_no_indicators, "indicators"),
    "G002": (_drop(lambda i: i.level1 == "影响力目标"), "indicators"),
    "G003": (_drop(lambda i: i.level2 == "时效"), "indicators"),
    "G004": (_add_row("产出目标", "数量", "数据检查次数", "≥300次"), "indicators[8].name"),
}


def test_clean_declaration_has_no_findings() -> None:
    assert check(clean()) == []


def test_every_checking_rule_has_a_trigger() -> None:
    checking = {code for code, r in CATALOGUE.items() if r.check is not None}
    assert checking == set(TRIGGERS)


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_rule_triggers(code: str) -> None:
    decl = clean()
    mutate, field = TRIGGERS[code]
    mutate(decl)
    findings = check(decl)
    hits = [f for f in findings if f.code == code]
    assert hits, f"{code} not raised; got {[f.code for f in findings]}"
    assert hits[0].field == field
    assert hits[0].severity == CATALOGUE[code].severity
    assert hits[0].project == "测试项目"
    assert hits[0].message and "{" not in hits[0].message


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("预算执行率", "=100%"), ("预算执行率", "≥90%"), ("数据报送频率", "<=5分钟"), ("工作效率", "提高30%"),
        ("服务对象满意度", "不低于90%"), ("修缮面积", "1344m ²"), ("年度会议完成时间", "11月底"),
        ("查询服务使用次数", "≥2000000次"), ("平台应用情况", "通过数据共享支撑信用服务机构"),
    ],
)
def test_sound_indicators_pass(name: str, target: str) -> None:
    ctx = Context(load_profile("shanghai-2020"), 2020, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    ind = Indicator(level1="产出目标", level2="数量", name=name, target=target)
    assert [f.code for f in check_indicator(ind, ctx)] == []


def test_rate_and_satisfaction_ranges() -> None:
    ctx = Context(load_profile("shanghai-2020"))
    for target, problem in (("≥120%", "0%–100%"), ("95%", "比较符号"), ("高", "百分数")):
        found = check_indicator(Indicator(level1="产出目标", level2="质量", name="验收通过率", target=target), ctx)
        assert [f.code for f in found] == ["I008"] and problem in found[0].message


def test_budget_checks_alone() -> None:
    ctx = Context(load_profile("shanghai-2020"))
    decl = clean()
    decl.budget.current_year = Decimal("200")
    assert [f.code for f in check_budget(decl.budget, ctx)] == ["B002"]


def test_national_profile_vocabulary() -> None:
    ctx = Context(load_profile("national-2021"))
    ok = Indicator(level1="产出指标", level2="数量指标", name="培训人次", target="≥100人次")
    alias = Indicator(level1="效益指标", level2="社会效益", name="覆盖人群", target="≥1000人")
    wrong = Indicator(level1="产出指标", level2="服务对象满意度指标", name="满意度", target="≥90%")
    assert check_indicator(ok, ctx) == []
    assert check_indicator(alias, ctx) == []
    assert [f.code for f in check_indicator(wrong, ctx)] == ["I005"]


def test_every_rule_is_fully_declared() -> None:
    for code, r in CATALOGUE.items():
        assert r.code == code and r.severity in Severity
        assert r.title and r.message and r.description
