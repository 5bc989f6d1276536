"""The user's sample, read form by form and indicator by indicator, and its known defects found."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from converter import canonical
from converter.reading import FileResult

from .conftest import DATA


def test_seven_forms_and_135_indicators(sample: FileResult) -> None:
    assert [len(d.declaration.indicators) for d in sample.declarations] == [15, 17, 19, 27, 19, 22, 16]
    names = [d.declaration.project.name for d in sample.declarations]
    assert names == [
        "办公用房修缮", "公共资源交易平台专项经费", "企业投资备案系统专项工作经费",
        "上海市公共信用信息服务平台（一期）", "上海市固定资产投资项目管理信息系统(运维)",
        "市财政科技投入信息管理平台专项工作", "推进长三角地区经济社会一体化发展工作经费",
    ]


def test_matches_reviewed_json(sample: FileResult) -> None:
    """The whole sample against the reviewed canonical JSON, indicator by indicator."""
    expected = json.loads((DATA / "declarations-2020.expected.json").read_text(encoding="utf-8"))
    got = [canonical.to_obj(d.declaration) for d in sample.declarations]
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert {k: v for k, v in g.items() if k != "indicators"} == {k: v for k, v in e.items() if k != "indicators"}
        assert len(g["indicators"]) == len(e["indicators"])
        for gi, ei in zip(g["indicators"], e["indicators"], strict=True):
            assert gi == ei


def test_header_fields(sample: FileResult) -> None:
    first = sample.declarations[0].declaration
    assert first.year == 2020
    assert first.unit_name == "上海市经济信息中心"
    assert first.project.category == "经常性专项业务费"
    assert first.project.includes_government_procurement is False
    assert first.budget.total == Decimal("600000.00")
    assert first.budget.prior_year_budget == Decimal("560000.00")
    third = sample.declarations[2].declaration
    assert third.project.start_date == dt.date(2020, 2, 1)  # written 2020/2/1
    assert sample.declarations[4].declaration.budget.prior_year_executed == Decimal("1398160.00")


def _row(sample: FileResult, form: int, name: str) -> tuple[str | None, ...]:
    for ind in sample.declarations[form].declaration.indicators:
        if ind.name == name:
            return ind.level1, ind.level2, ind.name, ind.target
    raise AssertionError(name)


def test_shifted_rows_set_right(sample: FileResult) -> None:
    assert _row(sample, 1, "数据检查管理制度健全性") == ("投入与管理", "实施管理", "数据检查管理制度健全性", "健全")
    assert _row(sample, 2, "支持项目申报数量") == ("产出目标", "数量", "支持项目申报数量", None)
    assert _row(sample, 2, "申报项目清洗比对后入库率") == ("产出目标", "质量", "申报项目清洗比对后入库率", "=100%")
    assert _row(sample, 2, "平均系统故障修复时间") == ("产出目标", "时效", "平均系统故障修复时间", "<30分钟")
    assert _row(sample, 3, "供应商资质符合程度") == ("投入与管理", "实施管理", "供应商资质符合程度", "符合")
    assert _row(sample, 3, "数据归集数量") == ("产出目标", "数量", "数据归集数量", "≥100000000条")
    assert _row(sample, 3, "非正常停机率") == ("产出目标", "时效", "非正常停机率", "≤1%")
    assert _row(sample, 4, "项目质量可控性") == ("投入与管理", "实施管理", "项目质量可控性", "可控")
    assert _row(sample, 5, "清洗比对数据量") == ("产出目标", "数量", "清洗比对数据量", ">10000")
    assert _row(sample, 5, "年度项目评估完成时间") == ("产出目标", "时效", "年度项目评估完成时间", "12月底前")


def test_each_repair_is_an_info_finding(sample: FileResult) -> None:
    repaired = [f for d in sample.declarations for f in d.findings if f.code == "R001"]
    assert all(f.severity == "info" and f.cell and f.cell.startswith("A") for f in repaired)
    assert len(repaired) == 17
    assert {f.project for f in repaired} == {
        "公共资源交易平台专项经费", "企业投资备案系统专项工作经费", "上海市公共信用信息服务平台（一期）",
        "上海市固定资产投资项目管理信息系统(运维)", "市财政科技投入信息管理平台专项工作",
    }


def test_three_missing_targets_are_errors(sample: FileResult) -> None:
    missing = [f for d in sample.declarations for f in d.findings if f.code == "I007"]
    assert [(f.project, f.cell, f.severity) for f in missing] == [
        ("企业投资备案系统专项工作经费", "D103", "error"),
        ("上海市公共信用信息服务平台（一期）", "D147", "error"),
        ("市财政科技投入信息管理平台专项工作", "D229", "error"),
    ]
    assert all(f.file and f.file.endswith("declarations-2020.txt") for f in missing)
    assert [f.field for f in missing] == ["indicators[9].target", "indicators[13].target", "indicators[9].target"]


def test_known_defects(sample: FileResult) -> None:
    found = [(f.code, f.cell) for d in sample.declarations for f in d.findings]
    assert ("I008", "D31") in found  # 信息公开实现率 → 规范: a rate with a qualitative target
    assert ("I009", "D35") in found  # 员工满意度 >=90: satisfaction without %
    vague = {f.message.split("“")[2].split("”")[0] for d in sample.declarations for f in d.findings
             if f.code == "I013"}
    # 明显改善, 同比下降 and 缩短 stand in targets of a rate (I008) and a measure (I012): one verdict a cell
    assert {"进一步提升", "提高", "加大", "提升", "逐年上升", "上升"} <= vague
    assert ("H003", "D204") in found  # 其他经常性专项 is not a 项目类别 of the 2020 list
    assert ("H004", "D44") in found  # 绩效类型 其他经常性项目 is a 项目类别, not a 绩效类型


def test_html_becomes_paragraphs_and_targets_with_angle_brackets_survive(sample: FileResult) -> None:
    credit = sample.declarations[3].declaration
    assert credit.project.basis is not None
    paragraphs = credit.project.basis.split("\n")
    assert [p[:2] for p in paragraphs] == ["1、", "2、", "3、"]
    assert "<" not in credit.project.basis
    ol = sample.declarations[5].declaration.project.safeguards
    assert ol is not None and ol.startswith("1、制定详细的项目实施时间计划") and "<ol" not in ol
    assert _row(sample, 4, "数据报送频率")[3] == "<=5分钟"
    converted = [f for d in sample.declarations for f in d.findings if f.code == "R006"]
    assert len(converted) == 14 and all(f.severity == "info" for f in converted)


def test_long_text_kept_as_written(sample: FileResult) -> None:
    overview = sample.declarations[0].declaration.project.overview
    assert overview is not None and "建筑面积约为1344m ² 。" in overview
