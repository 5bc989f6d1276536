"""The label locator on variations of the old layout, built by the tests, and the reader's findings."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from converter import reading
from converter.reading import read_file

from .conftest import SAMPLE

FORM = """财政项目支出绩效目标申报表\t\t\t
（2020）年度\t\t\t
申报单位名称：测试单位\t\t\t
项目名称*：\t测试项目\t项目类别*：\t经常性专项业务费
计划开始日期*：\t2020-01-01\t计划完成日期*：\t2020-11-30
是否含有政府购买服务：\t是\t绩效类型：\t其他
项目概况*：\t概况\t\t
立项依据*：\t依据\t\t
项目设立的必要性*：\t必要\t\t
保证项目实施的制度、措施*：\t措施\t\t
项目实施计划*：\t计划\t\t
总目标及阶段性目标：\t目标\t\t
本项目上年度市级财政资金使用情况\t\t\t
项目总预算（元）：\t1,000.50\t项目当年预算（元）：\t1000.5
同名项目上年预算额（元）：\t900\t同名项目上年预算执行数（元）：\t800.00
2020年绩效目标\t\t\t
一级目标\t二级目标\t三级目标\t指标目标值
投入与管理\t投入管理\t预算执行率\t=100%
\t\t预算资金到位率\t=100%
产出目标\t数量\t数据检查次数\t≥200次
效果目标\t满意度\t服务对象满意度\t≥90%
影响力目标\t长效管理\t运维管理制度\t健全
"""


def write(tmp_path: Path, text: str, name: str = "form.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only(path: Path) -> reading.DeclarationResult:
    result = read_file(path)
    assert result.readable and len(result.declarations) == 1, result.findings
    return result.declarations[0]


def codes(found: reading.DeclarationResult) -> list[str]:
    return [f.code for f in found.findings]


def test_base_form(tmp_path: Path) -> None:
    d = only(write(tmp_path, FORM))
    decl = d.declaration
    assert decl.year == 2020 and decl.unit_name == "测试单位"
    assert decl.project.includes_government_procurement is True
    assert decl.budget.total == Decimal("1000.50") and decl.budget.prior_year_budget == Decimal("900.00")
    assert [(i.level1, i.level2, i.name) for i in decl.indicators][1] == ("投入与管理", "投入管理", "预算资金到位率")
    assert not [c for c in codes(d) if c.startswith("R")]


@pytest.mark.parametrize(
    ("old", "new"),
    [("项目名称*：", "项目名称:"), ("项目名称*：", "项目名称"), ("项目名称*：", "项目名称＊："),
     ("项目总预算（元）：", "项目总预算(元):"), ("项目类别*：", " 项目类别 * : ")],
)
def test_labels_retyped(tmp_path: Path, old: str, new: str) -> None:
    decl = only(write(tmp_path, FORM.replace(old, new))).declaration
    assert decl.project.name == "测试项目" and decl.project.category == "经常性专项业务费"
    assert decl.budget.total == Decimal("1000.50")


def test_form_anywhere_on_the_sheet_in_gbk(tmp_path: Path) -> None:
    shifted = "\n" * 4 + "\n".join("\t\t" + line for line in FORM.splitlines())
    path = tmp_path / "gbk.txt"
    path.write_bytes(shifted.encode("gb18030"))
    d = only(path)
    assert d.declaration.project.name == "测试项目"
    assert not [c for c in codes(d) if c.startswith("R")]
    assert all(f.cell for f in d.findings)
    assert next(f for f in d.findings if f.code == "G003").cell == "C21"  # the table's header
    assert len(d.declaration.indicators) == 5


def test_levels_repeated_on_every_row(tmp_path: Path) -> None:
    text = FORM.replace("\t\t预算资金到位率", "投入与管理\t投入管理\t预算资金到位率")
    assert len(only(write(tmp_path, text)).declaration.indicators) == 5


def test_unplaced_note_row_is_reported(tmp_path: Path) -> None:
    text = FORM + "备注：本表由财务科复核\t\t\t\n"
    d = only(write(tmp_path, text))
    notes = [f for f in d.findings if f.code == "R002"]
    assert len(notes) == 1 and notes[0].cell == "A23" and "财务科复核" in notes[0].message
    assert len(d.declaration.indicators) == 5


def test_stray_header_cell_is_reported(tmp_path: Path) -> None:
    text = FORM.replace("总目标及阶段性目标：\t目标\t\t", "总目标及阶段性目标：\t目标\t\t手写批注")
    d = only(write(tmp_path, text))
    assert [(f.code, f.cell) for f in d.findings if f.code == "R002"] == [("R002", "D12")]


@pytest.mark.parametrize(
    ("old", "new", "code", "field"),
    [("2020-11-30", "2020年底", "R003", "project.end_date"),
     ("1,000.50\t", "一千元\t", "R004", "budget.total"),
     ("800.00", "800.005", "R004", "budget.prior_year_executed"),
     ("务：\t是\t", "务：\t不清楚\t", "R005", "project.includes_government_procurement"),
     ("（2020）年度", "（二〇二〇）年度", None, None)],
)
def test_unreadable_values_are_errors_with_cells(tmp_path: Path, old: str, new: str, code: str | None,
                                                 field: str | None) -> None:
    d = only(write(tmp_path, FORM.replace(old, new).replace("2020年绩效目标", "绩效目标")))
    if code is None:  # the year line is not recognised: it is reported as content, and the year is missing
        assert d.declaration.year is None and "R002" in codes(d) and "H002" in codes(d)
        return
    hits = [f for f in d.findings if f.code == code]
    assert hits and hits[0].field == field and hits[0].severity == "error" and hits[0].cell
    assert new.split("\t")[-2 if new.endswith("\t") else 0].strip() in hits[0].message
    from converter.fields import get_field
    assert get_field(d.declaration, field) is None


def test_dates_in_several_spellings(tmp_path: Path) -> None:
    text = FORM.replace("2020-01-01", "2020/2/1").replace("2020-11-30", "2020年11月30日")
    project = only(write(tmp_path, text)).declaration.project
    assert (project.start_date, project.end_date) == (dt.date(2020, 2, 1), dt.date(2020, 11, 30))


def test_ambiguous_row_is_warned(tmp_path: Path) -> None:
    text = FORM.replace("影响力目标\t长效管理\t运维管理制度\t健全", "甲\t乙\t丙\t丁\t戊")
    d = only(write(tmp_path, text))
    assert "R008" in codes(d)


def test_several_forms_in_one_file(tmp_path: Path) -> None:
    result = read_file(write(tmp_path, FORM + "\n" + FORM.replace("测试项目", "第二个项目")))
    assert [d.declaration.project.name for d in result.declarations] == ["测试项目", "第二个项目"]
    assert result.declarations[1].findings == [] or all(f.cell for f in result.declarations[1].findings)


def test_old_layout_in_xlsx_with_merged_cells_and_real_types(tmp_path: Path) -> None:
    """The sample's grid as an old-style workbook: merged level cells, merged long texts, real dates."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "办公用房修缮"
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[2:37]
    for r, line in enumerate(lines, start=3):
        for c, value in enumerate(line.split("\t"), start=2):
            if value:
                cell = ws.cell(r, c, value)
                cell.data_type = "s"  # "=100%" typed as text, as the old sheets hold it
    ws["C7"] = dt.date(2020, 1, 1)  # 计划开始日期 as a real date
    ws["C17"] = 600000  # 项目总预算 as a number
    for r in range(9, 15):
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=5)
    ws.merge_cells("B23:B31")
    path = tmp_path / "old.xlsx"
    wb.save(path)
    d = only(path)
    (expected,) = [x for x in read_file(SAMPLE).declarations if x.declaration.project.name == "办公用房修缮"]
    got, want = asdict(d.declaration), asdict(expected.declaration)
    assert got["project"] == want["project"]
    assert got == want
    assert d.sheet == "办公用房修缮"
    assert next(f for f in d.findings if f.code == "I008").cell == "E31"


def test_file_level_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty.xlsx").write_bytes(b"PK\x03\x04broken")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    enc = tmp_path / "enc.xlsx"
    enc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le"))
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "季度销售统计"  # type: ignore[index]
    wb.save(other)
    got = {p.name: [f.code for f in read_file(p).findings]
           for p in (tmp_path / "empty.xlsx", tmp_path / "binary.bin", enc, other, tmp_path / "missing.xls")}
    # a compound-file header with the word EncryptedPackage but no directory is damaged, not encrypted (real
    # encrypted packages are told by their stream: tests/test_cli_messages.py)
    assert got == {"empty.xlsx": ["F001"], "binary.bin": ["F002"], "enc.xlsx": ["F001"], "other.xlsx": ["F003"],
                   "missing.xls": ["F001"]}
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 100)
    big = read_file(SAMPLE)
    assert [f.code for f in big.findings] == ["F005"] and not big.declarations
    assert all(f.file == str(p) for p in [SAMPLE] for f in big.findings)


def test_control_characters_removed_and_reported(tmp_path: Path) -> None:
    d = only(write(tmp_path, FORM.replace("测试项目", "测试\x07项目").replace("运维管理制度", "运维\x0b管理制度")))
    assert d.declaration.project.name == "测试项目"
    assert d.declaration.indicators[-1].name == "运维管理制度"
    assert [f.cell for f in d.findings if f.code == "R010"] == ["B4", "C22"]
