"""Returned workbooks laid out as forms in use elsewhere — built here cell by cell as staff lay them out, with no
defined names — read by labels and headings, their profile detected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from converter.bulk import run_bulk
from converter.reading import DeclarationResult, read_file


def sheet(path: Path, rows: list[list[Any]], merges: tuple[str, ...] = (), title: str = "Sheet1") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(r, c, value)
    for rng in merges:
        ws.merge_cells(rng)
    wb.save(path)
    return path


def only(path: Path, **kwargs: Any) -> DeclarationResult:
    result = read_file(path, **kwargs)
    assert result.readable and len(result.declarations) == 1, result.findings
    return result.declarations[0]


def codes(found: DeclarationResult) -> set[str]:
    return {f.code for f in found.findings}


NATIONAL = [
    ["项目支出绩效目标申报表"],
    ["（2027年度）"],
    ["项目名称", "政务服务平台运行维护"],
    ["主管部门及代码", "某部（123）", None, "实施单位", "某部信息中心"],
    ["项目属性", "延续", None, "项目期", "2026—2028年"],
    ["项目资金（万元）"],
    ["中期资金总额", 150, None, "年度资金总额", 52.345678],
    ["其中：财政拨款", 50, None, "其他资金", 2.345678],
    ["总体目标", "中长期目标", None, "年度目标"],
    [None, "平台三年稳定运行", None, "全年可用率不低于99.9%"],
    ["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位"],
    ["产出指标", "数量指标", "新增共享接口数", "≥", "20", "个"],
    [None, "质量指标", "平台可用率", "≥", 99.9, "%"],
    ["效益指标", "社会效益指标", "网上办理事项占比", "≥", "90", "%"],
    ["满意度指标", "服务对象满意度指标", "用户满意度", "≥", "90", "%"],
    ["成本指标", "经济成本指标", "年度运维成本", "≤", "52.35", "万元"],
    ["填报人：张三", None, "联系电话：12345678", None, "填报日期：2026-12-01"],
]


def test_national_six_column_table_in_wan_yuan(tmp_path: Path) -> None:
    found = only(sheet(tmp_path / "n.xlsx", NATIONAL, ("A1:F1", "A6:F6", "A12:A13")))
    decl = found.declaration
    assert decl.profile == "national-2021" and decl.year == 2027
    assert (decl.department, decl.implementing_unit) == ("某部（123）", "某部信息中心")
    assert (decl.project.attribute, decl.project.period) == ("延续", "2026—2028年")
    assert decl.budget.total == Decimal("1500000.00") and decl.budget.current_year == Decimal("523456.78")
    assert decl.budget.fiscal_funds == Decimal("500000.00") and decl.budget.other_funds == Decimal("23456.78")
    assert (decl.project.long_term_goal, decl.project.annual_goal) == ("平台三年稳定运行", "全年可用率不低于99.9%")
    first, second = decl.indicators[:2]
    assert (first.comparator, first.target, first.unit) == ("≥", "20", "个")
    assert (second.level1, second.comparator, second.target, second.unit) == ("产出指标", "≥", "99.9", "%")
    assert [i.level1 for i in decl.indicators] == ["产出指标", "产出指标", "效益指标", "满意度指标", "成本指标"]
    assert not [f for f in found.findings if f.severity == "error"], found.findings
    assert "R002" not in codes(found)  # the footer's names and dates are the form's, not stray content


def test_wps_two_row_header_wrapped_labels_and_year_in_title(tmp_path: Path) -> None:
    rows = [
        ["2027年度项目支出绩效目标申报表"],
        ["项目\n名称", "档案数字化加工"],
        ["年度资金总额\n（万元）", 100],
        ["年度目标", "完成馆藏档案数字化 30 万页"],
        ["绩效指标", None, None, "指标值", "备注"],
        ["一级指标", "二级指标", "三级指标", None, None],
        ["产出指标", "数量指标", "数字化页数", "≥30万页", None],
        [None, "质量指标", "图像合格率", "≥98%", "抽检"],
        ["满意度指标", "服务对象满意度指标", "查档人员满意度", "≥90%", None],
    ]
    found = only(sheet(tmp_path / "w.xlsx", rows, ("A5:C5", "D5:D6", "E5:E6", "A7:A8")))
    decl = found.declaration
    assert decl.year == 2027 and decl.project.name == "档案数字化加工"
    assert decl.budget.current_year == Decimal("1000000.00")
    assert [(i.level1, i.level2, i.name, i.target, i.note) for i in decl.indicators] == [
        ("产出指标", "数量指标", "数字化页数", "≥30万页", None),
        ("产出指标", "质量指标", "图像合格率", "≥98%", "抽检"),
        ("满意度指标", "服务对象满意度指标", "查档人员满意度", "≥90%", None)]
    assert "R002" not in codes(found)


def test_table_without_a_level1_column(tmp_path: Path) -> None:
    rows = [["项目支出绩效目标申报表"], ["项目名称", "无一级指标列"],
            ["二级指标", "三级指标", "指标值"],
            ["数量指标", "培训人次", "≥500人次"],
            ["服务对象满意度指标", "学员满意度", "≥90%"]]
    found = only(sheet(tmp_path / "l.xlsx", rows))
    assert [i.level1 for i in found.declaration.indicators] == ["产出指标", "满意度指标"]
    inferred = [f for f in found.findings if f.code == "R014"]
    assert len(inferred) == 1 and inferred[0].severity == "info" and inferred[0].cell == "A3"


COUNTY = [
    ["某县财政支出项目绩效目标申报表"],
    ["（2027年度）"],
    ["填报单位（盖章）", "某县农业农村局"],
    ["项目名称", "高标准农田建设", "项目属性", "新增项目□ 延续项目√"],
    ["主管部门", "某县农业农村局", "项目实施单位", "某县农业技术推广中心"],
    ["项目起止时间", "2026年1月—2028年12月"],
    ["项目资金申请（万元）"],
    ["资金总额", 240, "财政拨款", 200],
    ["项目绩效目标"],
    ["长期目标", "建成高标准农田3.6万亩"],
    ["年度目标", "建成高标准农田1.2万亩"],
    ["长期绩效指标"],
    ["一级指标", "二级指标", "指标内容", "指标值", "备注"],
    ["产出指标", "数量指标", "建成面积", "≥3.6万亩", None],
    ["年度绩效指标"],
    ["一级指标", "二级指标", "指标内容", "指标值", "备注"],
    ["产出指标", "数量指标", "建成面积", "≥1.2万亩", "三个乡镇"],
    [None, "时效指标", "完工时间", "2027年11月底前", None],
    ["满意度指标", "服务对象满意度指标", "受益农户满意度", "≥90%", None],
    ["其他说明的问题"],
    ["填报人：", "李四", "单位负责人：", "王五", "填报日期：2026-11-30"],
]


def test_county_form_with_long_term_and_annual_tables(tmp_path: Path) -> None:
    found = only(sheet(tmp_path / "c.xlsx", COUNTY, ("A1:E1", "A12:E12", "A15:E15")))
    decl = found.declaration
    assert decl.profile == "county-2016" and decl.year == 2027 and decl.unit_name == "某县农业农村局"
    assert decl.budget.total == Decimal("2400000.00") and decl.budget.fiscal_funds == Decimal("2000000.00")
    assert [(i.period, i.name, i.target) for i in decl.indicators] == [
        ("long_term", "建成面积", "≥3.6万亩"), ("annual", "建成面积", "≥1.2万亩"),
        ("annual", "完工时间", "2027年11月底前"), ("annual", "受益农户满意度", "≥90%")]
    assert decl.indicators[2].level1 == "产出指标" and decl.indicators[1].note == "三个乡镇"
    assert "R002" not in codes(found), [f.message for f in found.findings if f.code == "R002"]


def test_period_heading_beside_the_table(tmp_path: Path) -> None:
    """A period written in a merged cell left of the table, spanning its rows, as some county forms print it."""
    rows = [["财政支出项目绩效目标申报表"], [None, "项目名称", "并排的期间"],
            [None, "一级指标", "二级指标", "指标内容", "指标值"],
            ["长期绩效指标", "产出指标", "数量指标", "建成面积", "≥3万亩"],
            [None, "效益指标", "经济效益指标", "亩均增产", "≥10%"],
            ["年度绩效指标", "产出指标", "数量指标", "建成面积", "≥1万亩"]]
    found = only(sheet(tmp_path / "p.xlsx", rows, ("A4:A5",)))
    assert [i.period for i in found.declaration.indicators] == ["long_term", "long_term", "annual"]


def test_direction_unit_comparator_and_weight_columns(tmp_path: Path) -> None:
    rows = [["项目支出绩效目标申报表"], ["项目名称", "四列都在"],
            ["一级指标", "二级指标", "三级指标名称", "计算符号", "年度指标值", "计量单位", "指标方向", "权重",
             "上年实际值", "指标值说明"],
            ["产出指标", "数量指标", "培训人次", "≥", 500, "人次", "正向", 20, 480, "按签到统计"],
            ["产出指标", "时效指标", "故障修复时间", "＜", 4, "小时", "反向", 10, None, None]]
    found = only(sheet(tmp_path / "d.xlsx", rows))
    first, second = found.declaration.indicators
    assert (first.comparator, first.target, first.unit, first.direction, first.weight, first.history, first.note) \
        == ("≥", "500", "人次", "正向", "20", "480", "按签到统计")
    assert (second.direction, second.comparator) == ("反向", "＜")
    assert "R002" not in codes(found)


def test_shanghai_2025_layout_is_not_taken_for_national(tmp_path: Path) -> None:
    rows = [["财政项目支出绩效目标申报表"], ["(2027)年度"], ["申报单位名称：上海市某中心"],
            ["项目名称*：", "某平台运维", "项目类别*：", "经常性专项业务费"],
            ["计划开始日期*：", "2027-01-01", "计划完成日期*：", "2027-12-31"],
            ["项目总预算（元）：", 1000000, "项目当年预算（元）：", 1000000],
            ["一级指标", "二级指标", "三级指标", "指标值"],
            ["成本指标", "经济成本指标", "年度运维总成本", "≤100万元"],
            ["产出指标", "数量指标", "接入部门数", "≥40个"],
            ["效益指标", "社会效益指标", "日均交换量", "≥1000万条"],
            ["满意度指标", "服务对象满意度指标", "满意度", "≥90%"]]
    found = only(sheet(tmp_path / "s.xlsx", rows))
    assert found.declaration.profile == "shanghai-2025"
    assert not {"I002", "I004", "I005", "G002"} & codes(found)
    no_cost = only(sheet(tmp_path / "s2.xlsx", rows[:7] + rows[8:]), profile="shanghai-2025")
    g002 = [f for f in no_cost.findings if f.code == "G002"]
    assert g002 and g002[0].severity == "warning" and "成本指标" in g002[0].message


def test_self_evaluation_is_named_and_not_read(tmp_path: Path) -> None:
    rows = [["项目支出绩效自评表"], ["（2026年度）"], ["项目名称", "某项目"],
            ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
            ["产出指标", "数量指标", "培训人次", "≥500人次", "520人次", 10, 10, None]]
    result = read_file(sheet(tmp_path / "e.xlsx", rows))
    assert not result.declarations
    (f003,) = result.findings
    assert f003.code == "F003" and "绩效自评表" in f003.message


def test_section_headings_and_repeated_headers_are_not_indicators(tmp_path: Path) -> None:
    rows = [["项目支出绩效目标申报表"], ["项目名称", "分页"], ["三、绩效指标"],
            ["一级指标", "二级指标", "三级指标", "指标值"],
            ["产出指标", "数量指标", "培训人次", "≥500人次"],
            ["一级指标", "二级指标", "三级指标", "指标值"],
            ["满意度指标", "服务对象满意度指标", "满意度", "≥90%"]]
    found = only(sheet(tmp_path / "h.xlsx", rows))
    assert [i.name for i in found.declaration.indicators] == ["培训人次", "满意度"]


def test_our_own_summary_is_not_a_declaration(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    sheet(inputs / "n.xlsx", NATIONAL)
    out = tmp_path / "out"
    run_bulk(inputs, out, jobs=1)
    result = read_file(out / "汇总.xlsx")
    assert not result.declarations and [f.code for f in result.findings] == ["F003"]


@pytest.mark.parametrize("typed", ["50万元", "500,000.00", "¥500000", "500000元"])
def test_amounts_as_typed_in_a_yuan_form(tmp_path: Path, typed: str) -> None:
    rows = [["财政项目支出绩效目标申报表"], ["项目名称*：", "金额"], ["项目总预算（元）：", typed]]
    found = only(sheet(tmp_path / "a.xlsx", rows), profile="shanghai-2020")
    assert found.declaration.budget.total == Decimal("500000.00")
    assert ("R011" in codes(found)) == (typed == "50万元")


def test_to_json_names_an_unreadable_amount_on_stderr(tmp_path: Path) -> None:
    """A cell that cannot be read becomes null in the JSON, and to-json says so (exit 1), never silently."""
    import subprocess
    import sys

    path = sheet(tmp_path / "u.xlsx", [["财政项目支出绩效目标申报表"], ["项目名称*：", "金额"],
                                       ["项目总预算（元）：", "五十万"]])
    done = subprocess.run([sys.executable, "-m", "converter.cli", "to-json", str(path)], capture_output=True)
    assert done.returncode == 1
    assert '"total": null' in done.stdout.decode("utf-8")
    assert "R004" in done.stderr.decode("utf-8") and "B3" in done.stderr.decode("utf-8")


def test_one_cells_problem_is_that_cells_finding(tmp_path: Path) -> None:
    """A 40,000-character text and a 30-digit amount are findings at their cells; the rest is still read."""
    text = ("财政项目支出绩效目标申报表\n项目名称*：\t长文本\n项目概况*：\t" + "很" * 40_000 +
            "\n项目总预算（元）：\t" + "9" * 30 + "\n项目当年预算（元）：\t100\n"
            "一级目标\t二级目标\t三级目标\t指标目标值\n产出目标\t数量\t培训人次\t≥500人次\n")
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    found = only(path)
    decl = found.declaration
    assert decl.project.overview is None and decl.budget.total is None
    assert decl.budget.current_year == Decimal("100.00") and decl.indicators[0].name == "培训人次"
    by_code = {f.code: f.cell for f in found.findings if f.code in ("R013", "R004")}
    assert by_code == {"R013": "B3", "R004": "B4"}
    assert not [f for f in found.findings if f.field in ("project.overview", "budget.total") and f.code[0] == "H"]


@pytest.mark.parametrize("layout", ["columns", "merged"])
def test_a_row_with_annual_and_long_term_targets_is_two_indicators(tmp_path: Path, layout: str) -> None:
    """The 88号 table keeps a target for the whole period beside the annual one: each row is two indicators,
    one of each period, and no value is lost — whether the headings are 中期指标值 | 年度指标值 or one 指标值
    merged over 实施期 | 年度."""
    if layout == "columns":
        head = [["一级指标", "二级指标", "三级指标", "中期指标值", "年度指标值"]]
        merges: tuple[str, ...] = ()
    else:
        head = [["一级指标", "二级指标", "三级指标", "指标值", None], [None, None, None, "实施期", "年度"]]
        merges = ("A3:A4", "B3:B4", "C3:C4", "D3:E3")
    rows = [["项目支出绩效目标申报表"], ["项目名称", "两个期间"], *head,
            ["产出指标", "数量指标", "培训人次", "≥1500人次", "≥500人次"],
            [None, "质量指标", "合格率", None, "≥95%"]]
    found = only(sheet(tmp_path / "t.xlsx", rows, merges))
    got = [(i.period, i.name, i.target) for i in found.declaration.indicators]
    assert got == [("annual", "培训人次", "≥500人次"), ("long_term", "培训人次", "≥1500人次"),
                   ("annual", "合格率", "≥95%")]
    assert "R002" not in codes(found)


@pytest.mark.parametrize(("typed", "chosen"), [("新增项目□ 延续项目√", "延续项目"),
                                               ("新增项目√  延续项目□", "新增项目"),
                                               ("☑新增 □延续", "新增"), ("□新增 □延续", None)])
def test_ticked_boxes_are_read_as_the_option_ticked(tmp_path: Path, typed: str, chosen: str | None) -> None:
    rows = [["财政支出项目绩效目标申报表"], ["项目名称", "勾选", "项目属性", typed]]
    found = only(sheet(tmp_path / "k.xlsx", rows), profile="county-2016")
    assert found.declaration.project.attribute == (chosen or typed)
    notes = [f for f in found.findings if f.code == "R015"]
    assert (len(notes) == 1 and typed in notes[0].message and notes[0].cell == "D2") == (chosen is not None)


def test_several_amounts_in_one_cell(tmp_path: Path) -> None:
    rows = [["财政支出项目绩效目标申报表"], ["项目名称", "一格多金额"],
            ["资金总额：500万元，其中：财政资金450万元，其他资金50万元"]]
    decl = only(sheet(tmp_path / "f.xlsx", rows), profile="county-2016").declaration
    assert (decl.budget.total, decl.budget.fiscal_funds, decl.budget.other_funds) == (
        Decimal("5000000.00"), Decimal("4500000.00"), Decimal("500000.00"))


def test_88_funds_block_takes_the_years_parts(tmp_path: Path) -> None:
    """88号 prints 财政拨款 and 其他资金 twice, for the whole period and for the year: the year's are kept, the
    period's reported, none lost."""
    rows = [["项目支出绩效目标申报表"], ["项目名称", "资金两行"], ["项目资金（万元）"],
            ["中期资金总额", 900, "其中：财政拨款", 800, "其他资金", 100],
            ["年度资金总额", 300, "其中：财政拨款", 260, "其他资金", 40]]
    found = only(sheet(tmp_path / "m.xlsx", rows))
    budget = found.declaration.budget
    assert (budget.total, budget.current_year, budget.fiscal_funds, budget.other_funds) == (
        Decimal("9000000.00"), Decimal("3000000.00"), Decimal("2600000.00"), Decimal("400000.00"))
    assert sorted(f.cell for f in found.findings if f.code == "R002") == ["D4", "F4"]
