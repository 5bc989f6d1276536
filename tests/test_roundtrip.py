"""JSON → xlsx → JSON, xlsx → JSON → xlsx → JSON, and workbooks re-saved or edited by a real LibreOffice."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from converter import canonical
from converter.model import Declaration, Indicator
from converter.profile import load_profile
from converter.reading import read_file
from converter.template_layout import sheet_layout
from converter.writers.xlsx import write_workbook

from . import lo
from .conftest import DATA

EXPECTED = json.loads((DATA / "declarations-2020.expected.json").read_text(encoding="utf-8"))
SAMPLE_DECLS = canonical.loads(json.dumps(EXPECTED))
LAYOUT = sheet_layout(load_profile("shanghai-2020"))
FIRST_INDICATOR_ROW = LAYOUT.tables[0].first_row


def to_json(path: Path) -> str:
    result = read_file(path)
    assert result.readable, result.findings
    return canonical.dumps_many(d.declaration for d in result.declarations)


def test_sample_json_xlsx_json_is_byte_identical(tmp_path: Path) -> None:
    for i, decl in enumerate(SAMPLE_DECLS):
        path = tmp_path / f"{i}.xlsx"
        write_workbook(path, [decl])
        assert to_json(path) == canonical.dumps_many([decl])
    both = tmp_path / "all.xlsx"
    write_workbook(both, SAMPLE_DECLS)
    assert to_json(both) == canonical.dumps_many(SAMPLE_DECLS)
    assert openpyxl.load_workbook(both).sheetnames[:7] == [d.project.name[:28] for d in SAMPLE_DECLS]


def test_xlsx_json_xlsx_json_is_stable(tmp_path: Path) -> None:
    first = to_json(DATA / "declarations-2020.txt")
    (tmp_path / "a.json").write_text(first, encoding="utf-8")
    write_workbook(tmp_path / "a.xlsx", canonical.loads(first))
    second = to_json(tmp_path / "a.xlsx")
    write_workbook(tmp_path / "b.xlsx", canonical.loads(second))
    assert to_json(tmp_path / "b.xlsx") == second == first
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_user_text_never_becomes_a_formula(tmp_path: Path) -> None:
    decl = Declaration(profile="shanghai-2020", unit_name="=HYPERLINK(\"http://x\")", project={
        "name": "+1+1", "category": "-2", "overview": "@SUM(A1)", "goals": "_x0041_ stays _x0041_"},
        indicators=[Indicator(level1="投入与管理", level2="投入管理", name="=cmd|' /c calc'!A0", target="=100%")])
    path = tmp_path / "f.xlsx"
    write_workbook(path, [decl])
    ws = openpyxl.load_workbook(path)[decl.project.name or ""]
    for ref in ("B3", "B4", "D4", "B7", f"C{FIRST_INDICATOR_ROW}", f"D{FIRST_INDICATOR_ROW}"):
        assert ws[ref].data_type == "s", ref
    assert to_json(path) == canonical.dumps_many([decl])


def test_text_is_stored_as_utf8_and_typed_references_stay_text(tmp_path: Path) -> None:
    """The writer stores 中文 as UTF-8, not as ``&#20013;`` (a third faster for every reader); a reference a
    user typed is text and must come back as typed, in our reader and in openpyxl."""
    typed = "&#36130; &#x4E2D; &amp; 𠀀"
    decl = Declaration(profile="shanghai-2020", unit_name="上海市经济信息中心",
                       project={"name": "引用", "goals": typed},
                       indicators=[Indicator(level1="产出指标", level2="数量指标", name="中文", target="≥90%")])
    path = tmp_path / "u.xlsx"
    write_workbook(path, [decl])
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            refs = re.findall(rb"&#(x[0-9A-Fa-f]+|[0-9]+);", z.read(name))
            assert all(int(r[1:], 16) < 0x80 if r.startswith(b"x") else int(r) < 0x80 for r in refs), name
        assert "上海市经济信息中心".encode() in z.read("xl/worksheets/sheet1.xml")
    assert to_json(path) == canonical.dumps_many([decl])
    goals = LAYOUT.slot("project.goals")
    assert goals is not None
    assert openpyxl.load_workbook(path)["引用"][f"{goals.value_col}{goals.row}"].value == typed


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("filled")
    paths = []
    for i, decl in enumerate(SAMPLE_DECLS):
        paths.append(folder / f"form{i}.xlsx")
        write_workbook(paths[-1], [decl])
    return paths


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_libreoffice_resave_reads_back_the_same(filled: list[Path], tmp_path: Path, fmt: str) -> None:
    resaved = lo.convert(filled, fmt, tmp_path / fmt)
    for path, decl in zip(resaved, SAMPLE_DECLS, strict=True):
        result = read_file(path)
        assert [d.declaration for d in result.declarations] == [decl], path
        unplaced = [f for d in result.declarations for f in d.findings if f.code.startswith(("R", "F"))]
        assert unplaced == [], unplaced


def test_rows_inserted_in_libreoffice_still_read_right(filled: list[Path], tmp_path: Path) -> None:
    """Staff insert rows above the table and inside it; the names move with them."""
    edited = tmp_path / "edited.xlsx"
    sheet = SAMPLE_DECLS[0].project.name or ""
    lo.uno("insert-rows", filled[0], tmp_path / "step.xlsx", sheet, 3, 2)
    lo.uno("insert-rows", tmp_path / "step.xlsx", edited, sheet, FIRST_INDICATOR_ROW + 2 + 4, 3)
    result = read_file(edited)
    assert [d.declaration for d in result.declarations] == [SAMPLE_DECLS[0]]
    missing = next(f for f in result.declarations[0].findings if f.code == "I008")
    assert missing.cell == f"D{FIRST_INDICATOR_ROW + 2 + 8 + 3}"  # 信息公开实现率, moved by 2 + 3 rows


def test_values_typed_in_libreoffice_are_read(filled: list[Path], tmp_path: Path) -> None:
    edited = tmp_path / "typed.xlsx"
    sheet = SAMPLE_DECLS[0].project.name or ""
    row = FIRST_INDICATOR_ROW + len(SAMPLE_DECLS[0].indicators)
    lo.uno("set-cells", filled[0], edited, sheet, f"A{row}=产出目标", f"B{row}=成本", f"C{row}=单位面积成本",
           f"D{row}=≤450元")
    (d,) = read_file(edited).declarations
    assert d.declaration.indicators[-1] == Indicator(level1="产出目标", level2="成本", name="单位面积成本",
                                                     target="≤450元")
