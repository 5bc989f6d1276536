"""The Excel template: generated from model and profile, validated by a real LibreOffice."""

from __future__ import annotations

import datetime as dt
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from converter.fields import field_labels
from converter.profile import load_profile, profile_names
from converter.sheet_layout import (
    FIRST_INDICATOR_ROW,
    HEADER_ROW,
    INDICATORS_NAME,
    LISTS_SHEET,
    META_SHEET,
    MIN_INDICATOR_ROWS,
    SLOTS,
)
from converter.writers.xlsx import build_workbook, workbook_bytes

from . import lo

ROOT = Path(__file__).parent.parent
LABELS = field_labels()


@pytest.mark.parametrize("name", profile_names())
def test_committed_template_equals_generator(name: str) -> None:
    committed = (ROOT / "templates" / f"{name}.xlsx").read_bytes()
    assert committed == workbook_bytes(build_workbook([None], load_profile(name))), (
        f"templates/{name}.xlsx is stale: run `perfgoal template -o templates/{name}.xlsx --profile {name}`")


def test_generator_is_deterministic() -> None:
    assert workbook_bytes(build_workbook([None])) == workbook_bytes(build_workbook([None]))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.xlsx"
    path.write_bytes((ROOT / "templates" / "shanghai-2020.xlsx").read_bytes())
    return path


def test_labels_names_and_layout(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    ws = wb["申报表"]
    profile = load_profile("shanghai-2020")
    assert ws["A1"].value == "财政项目支出绩效目标申报表"
    for slot in SLOTS:
        label = ws[slot.label_ref].value
        assert label.startswith(LABELS[slot.path]) and label.endswith("：")
        assert ("*" in label) == (slot.path in profile.required_fields)
        assert ws.defined_names[slot.name].attr_text == f"'申报表'!${slot.value_col}${slot.row}"
    assert [ws.cell(HEADER_ROW, c).value for c in range(1, 5)] == ["一级目标", "二级目标", "三级目标", "指标目标值"]
    table = ws.defined_names[INDICATORS_NAME].attr_text
    last = int(table.rsplit("$", 1)[1])
    assert table.startswith(f"'申报表'!$A${FIRST_INDICATOR_ROW}:$D$")
    assert last - FIRST_INDICATOR_ROW + 1 >= MIN_INDICATOR_ROWS


def test_lists_live_on_a_hidden_sheet_behind_names(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    profile = load_profile("shanghai-2020")
    assert wb[LISTS_SHEET].sheet_state == "hidden" and wb[META_SHEET].sheet_state == "hidden"
    lists = wb[LISTS_SHEET]
    ref = wb.defined_names["pg_list_category"].attr_text.split("!")[1].replace("$", "")
    assert [c.value for (c,) in lists[ref]] == list(profile.lists.category)
    ref = wb.defined_names["pg_level1"].attr_text.split("!")[1].replace("$", "")
    assert [c.value for (c,) in lists[ref]] == profile.level1_names()
    meta = {r[0].value: r[1].value for r in wb[META_SHEET].iter_rows()}
    assert meta == {"数据格式版本": "1.0", "表式版本": "shanghai-2020", "表式名称": profile.title, "模板版本": "1"}


def test_validations(template: Path) -> None:
    ws = openpyxl.load_workbook(template)["申报表"]
    by_cell = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.allow_blank is True, dv.sqref  # blank inputs are valid; required fields are shown by colour
        assert dv.prompt and dv.error and dv.showErrorMessage and dv.showInputMessage
        assert any("\u4e00" <= ch <= "\u9fff" for ch in dv.error + dv.prompt)  # Chinese for staff
        for rng in str(dv.sqref).split():
            by_cell[rng.split(":")[0]] = dv
    ref = {s.path: s.value_ref for s in SLOTS}
    assert (by_cell[ref["project.category"]].type, by_cell[ref["project.category"]].formula1) == (
        "list", "pg_list_category")
    assert by_cell[ref["project.category"]].errorStyle == "warning"
    assert by_cell[ref["project.performance_type"]].formula1 == "pg_list_performance_type"
    assert by_cell[ref["project.includes_government_procurement"]].errorStyle == "stop"
    assert by_cell[ref["project.start_date"]].type == "date"
    assert "D5>=B5" in by_cell[ref["project.end_date"]].formula1
    assert "D14<=B14" in by_cell[ref["budget.current_year"]].formula1
    assert "当年预算超过总预算" in by_cell[ref["budget.current_year"]].error
    level1 = by_cell[f"A{FIRST_INDICATOR_ROW}"]
    assert (level1.type, level1.formula1, level1.errorStyle) == ("list", "pg_level1", "stop")
    level2 = by_cell[f"B{FIRST_INDICATOR_ROW}"]
    assert level2.type == "list" and "INDIRECT" in level2.formula1 and level2.errorStyle == "warning"
    assert by_cell[f"D{FIRST_INDICATOR_ROW}"].type == "textLength"
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            assert not (dv.formula1 or "").startswith('"'), "list literals break past 255 characters"


def test_protection_formatting_and_print_setup(template: Path) -> None:
    ws = openpyxl.load_workbook(template)["申报表"]
    assert ws.protection.sheet is True and not ws.protection.password
    assert ws.protection.insertRows is False  # staff may insert indicator rows
    for slot in SLOTS:
        assert ws[slot.label_ref].protection.locked is True
        assert ws[slot.value_ref].protection.locked is False
    assert ws[f"C{FIRST_INDICATOR_ROW + 59}"].protection.locked is False
    assert ws[f"D{FIRST_INDICATOR_ROW}"].number_format == "@"  # "95%" stays text
    required = {s.value_ref for s in SLOTS if s.path in load_profile("shanghai-2020").required_fields}
    formatted = {str(rng.sqref) for rng in ws.conditional_formatting}
    assert required <= formatted
    assert int(ws.page_setup.paperSize) == 9 and int(ws.page_setup.fitToWidth) == 1  # A4, one page wide
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws["B7"].alignment.wrap_text is True and ws["A1"].font.name == "宋体"
    assert ws.column_dimensions["B"].width > 20


def _bad_values(template: Path, out: Path) -> None:
    wb = openpyxl.load_workbook(template)
    ws = wb["申报表"]
    r = FIRST_INDICATOR_ROW
    values = {"B2": 1990, "D4": "乱填类别", "B5": dt.date(2020, 5, 1), "D5": dt.date(2020, 4, 1), "B6": "也许",
              "B14": -5, "D14": 10, "B15": 100.555, "D15": 200, f"A{r}": "乱填", f"A{r + 1}": "产出目标",
              f"B{r + 1}": "满意度", f"A{r + 2}": "产出目标", f"B{r + 2}": "数量", f"C{r + 2}": "指" * 101,
              f"D{r + 2}": "≥1个", f"A{r + 3}": "效果目标", f"B{r + 3}": "满意度", f"C{r + 3}": "满意度",
              f"D{r + 3}": "≥90%"}
    for ref, value in values.items():
        ws[ref] = value
    wb.save(out)


def test_libreoffice_marks_exactly_the_invalid_cells(template: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    _bad_values(template, bad)
    example = ROOT / "examples" / "declarations-2020-04.xlsx"
    result = lo.invalid_cells(template, example, bad)
    r = FIRST_INDICATOR_ROW
    assert result[str(template)]["申报表"] == []
    assert all(cells == [] for cells in result[str(example)].values())
    assert result[str(bad)]["申报表"] == ["B2", "D4", "D5", "B6", "B14", "D14", "B15", "D15", f"A{r}", f"B{r + 1}",
                                         f"C{r + 2}"]


def test_libreoffice_prints_the_template(template: Path, tmp_path: Path) -> None:
    (pdf,) = lo.convert([template], "pdf", tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "Pages:" in pages


def test_template_zip_has_no_macros_or_external_links(template: Path) -> None:
    names = zipfile.ZipFile(template).namelist()
    assert not [n for n in names if "vbaProject" in n or "externalLink" in n]
