"""What Excel stores, read as the user typed it: formulas, percent- and date-formatted numbers, amounts with units.

Workbooks are written with openpyxl (formulas without a cached value, as openpyxl writes them; then with one,
as Excel writes them, by editing the sheet XML) and re-saved by LibreOffice as xlsx, xls and ods (LibreOffice
recalculates and stores cached values). Everything is read back through ``workbook_grids`` and the value
converters, the way the form reader reads cells.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from converter.readers import workbook
from converter.readers.cell_kinds import format_kind, open_kinds, openformula_text
from converter.readers.grid import ErrorValue, Formula, Grid, is_blank
from converter.readers.values import (
    as_date,
    as_flag,
    as_money,
    as_text,
    as_year,
    money_unit_written,
    number_text,
    percent_text,
)
from converter.readers.workbook import workbook_grids

from . import lo
from .shared import CORPUS_FILES, needs_corpus

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.xlsx"))

JAN_1 = dt.date(2020, 1, 1)
SERIAL_JAN_1 = (JAN_1 - dt.date(1899, 12, 30)).days
# (cell, value as written, number format) — what a user types, as Excel stores it.
TYPED: list[tuple[str, Any, str | None]] = [
    ("A1", "=100%", "0%"),  # a target typed =100%: Excel makes it a formula and gives it a percent format
    ("A2", 0.95, "0%"),  # 95% typed into a cell
    ("A3", 0.995, "0.0%"),  # 99.5%
    ("A4", 0.3, "0%"),
    ("A5", 1, "0.00%"),
    ("A6", SERIAL_JAN_1, 'yyyy"年"m"月"d"日"'),  # a date with a custom Chinese format
    ("A7", SERIAL_JAN_1, "[$-804]aaaa"),  # shown as the weekday, still a date
    ("A8", 0.1 + 0.2, None),
    ("A9", "600,000.00", None),
    ("A10", "¥600000", None),
    ("A11", "50万元", None),
    ("A12", "=SUM(1,2)", None),
    ("A13", "1" * 30, None),
    ("A14", 1, '0.00"%"'),  # a quoted % is text in the format: the number stays a number
    ("B2", "目标", None),
]


def _typed(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "表"
    for ref, value, fmt in TYPED:
        ws[ref] = value
        if fmt is not None:
            ws[ref].number_format = fmt
    wb.save(path)
    return path


def _edit_sheet(path: Path, edit: Callable[[str], str], out: Path) -> Path:
    """A copy of the workbook with its first sheet's XML edited, as another application would have written it."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = edit(parts["xl/worksheets/sheet1.xml"].decode()).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out


def _cache(xml: str, ref: str, value: str) -> str:
    """Store a computed value for a formula cell, as Excel does on save (openpyxl writes ``<v></v>``)."""
    changed, n = re.subn(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(?:</v>)?', rf"\1\2<v>{value}</v>", xml)
    assert n == 1, f"no formula cell {ref} in {xml[:200]}"
    return changed


def _cells(grids: list[Grid]) -> dict[str, Any]:
    """First sheet's non-empty cells by A1 reference."""
    grid = grids[0]
    return {grid.ref(r, c): v for r, row in enumerate(grid.rows) for c, v in enumerate(row) if v is not None}


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _typed(tmp_path_factory.mktemp("typed") / "typed.xlsx")


def _common_expectations(cells: dict[str, Any]) -> None:
    """What every format must give, whoever saved it."""
    assert cells["A2"] == "95%"
    assert cells["A3"] == "99.5%"
    assert cells["A4"] == "30%"
    assert cells["A5"] == "100%"
    assert cells["A6"] == JAN_1
    assert cells["A7"] == JAN_1
    assert as_text(cells["A8"]) == "0.3"
    assert as_money(cells["A9"]) == Decimal("600000.00")
    assert as_money(cells["A10"]) == Decimal("600000.00")
    assert as_money(cells["A11"]) == Decimal("500000.00") and money_unit_written(cells["A11"]) == "万元"
    with pytest.raises(ValueError):
        as_money(cells["A13"])
    assert as_text(cells["A14"]) == "1"
    assert cells["B2"] == "目标" and not isinstance(cells["B2"], Formula)


def test_openpyxl_workbook_reads_as_typed(typed: Path) -> None:
    grids, _ = workbook_grids(typed)
    cells = _cells(grids)
    # No application computed the formulas: calamine sees nothing in A1 and starts the sheet at A2, but the
    # grid still holds A1, with its formula.
    assert grids[0].origin == (0, 0)
    assert cells["A1"] == Formula("=100%", None)
    assert as_text(cells["A1"]) == "=100%"
    assert cells["A12"] == Formula("=SUM(1,2)", None)
    with pytest.raises(ValueError):
        as_money(cells["A12"])  # a formula never computed has no amount to read
    assert not is_blank(cells["A1"])
    _common_expectations(cells)


def test_cached_values_as_excel_stores_them(typed: Path, tmp_path: Path) -> None:
    cached = _edit_sheet(typed, lambda xml: _cache(_cache(xml, "A1", "1"), "A12", "3"), tmp_path / "cached.xlsx")
    cells = _cells(workbook_grids(cached)[0])
    assert cells["A1"] == Formula("=100%", "100%")  # the cached 1 is shown as its format shows it
    assert as_text(cells["A1"]) == "=100%"
    assert cells["A12"] == Formula("=SUM(1,2)", 3.0)
    assert as_money(cells["A12"]) == Decimal("3.00")
    assert as_text(Formula(None, 3.0)) == "3"
    _common_expectations(cells)


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_libreoffice_copies_read_as_typed(typed: Path, tmp_path: Path, fmt: str) -> None:
    (converted,) = lo.convert([typed], fmt, tmp_path)
    cells = _cells(workbook_grids(converted)[0])
    if fmt == "xls":  # BIFF keeps formulas as tokens: the place and the computed value only
        assert cells["A1"] == Formula(None, "100%")
        assert cells["A12"] == Formula(None, 3.0)
        assert as_text(cells["A1"]) == "100%"
    else:
        assert cells["A1"] == Formula("=100%", "100%")
        assert cells["A12"] == Formula("=SUM(1,2)", 3.0)
        assert as_text(cells["A1"]) == "=100%"
    _common_expectations(cells)


def test_shared_formulas(typed: Path, tmp_path: Path) -> None:
    """Excel stores a formula filled down once, with its other cells pointing to it: each of them reads as the
    first one's formula with its relative references moved to it."""
    def share(xml: str) -> str:
        cells = (
            '<c r="C1"><f t="shared" ref="C1:C3" si="0">100%</f><v>1</v></c>'
            '<c r="D1"><f t="shared" ref="D1:D2" si="1">C1*2</f><v>2</v></c>',
            '<c r="C2"><f t="shared" si="0"/><v>1</v></c><c r="D2"><f t="shared" si="1"/><v>2</v></c>',
            '<c r="C3"><f t="shared" si="0"/><v>1</v></c>',
        )
        for row, extra in zip((1, 2, 3), cells, strict=True):
            xml, n = re.subn(rf'(<row r="{row}"[^>]*>.*?)(</row>)', lambda m, e=extra: m.group(1) + e + m.group(2),
                             xml, count=1)
            assert n == 1
        return xml
    cells = _cells(workbook_grids(_edit_sheet(typed, share, tmp_path / "shared.xlsx"))[0])
    assert [cells[r] for r in ("C1", "C2", "C3")] == [Formula("=100%", 1.0)] * 3
    assert (cells["D1"], cells["D2"]) == (Formula("=C1*2", 2.0), Formula("=C2*2", 2.0))


def test_cells_without_references(typed: Path, tmp_path: Path) -> None:
    """Cell and row references are optional in the file format; such a sheet is read by a real parse."""
    def strip(xml: str) -> str:
        return re.sub(r'(<(?:c|row)) r="[A-Z]*\d+"', r"\1", xml)
    stripped = _edit_sheet(typed, strip, tmp_path / "no-refs.xlsx")
    data = zipfile.ZipFile(stripped).read("xl/worksheets/sheet1.xml").decode()
    assert ' r="' not in data[data.index("<sheetData>"):data.index("</sheetData>")]
    assert _cells(workbook_grids(stripped)[0]) == _cells(workbook_grids(typed)[0])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_template_checks_stay_formulas(path: Path) -> None:
    """Our template's 校验 column holds formulas; every formula openpyxl sees is a Formula here, and nothing else."""
    wb = openpyxl.load_workbook(path)
    expected = {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.data_type == "f"}
    assert expected, "our template has live checks"
    grids, _ = workbook_grids(path)
    found = {(g.sheet, g.ref(r, c)): v.text for g in grids for r, row in enumerate(g.rows) for c, v in enumerate(row)
             if isinstance(v, Formula)}
    read_sheets = {g.sheet for g in grids}
    assert found == {k: v for k, v in expected.items() if k[0] in read_sheets}


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _xlsx_parts(typed: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(typed) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("body", [
    b'<c r="A1"><f' * 200_000,
    b"<c r=\"A1\"><f>" + b"x" * 4_000_000,
    b'<c r="A1" s="1">' + b' s="1"' * 500_000,
    b'<c r="A1"><f t="shared" si="0"/>' * 100_000,
])
def test_hostile_sheets_are_scanned_in_linear_time(typed: Path, body: bytes) -> None:
    parts = _xlsx_parts(typed)
    parts["xl/worksheets/sheet1.xml"] = b'<worksheet xmlns="x"><sheetData><row r="1">' + body
    kinds = open_kinds(_zip(parts))
    assert kinds is not None
    start = time.process_time()  # CPU time: a busy machine does not stretch it
    kinds.sheet("表")
    assert time.process_time() - start < 2


def test_parts_with_a_dtd_are_not_read(typed: Path) -> None:
    parts = _xlsx_parts(typed)
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e "x">]>' + sheet
    kinds = open_kinds(_zip(parts))
    assert kinds is not None and kinds.sheet("表") is None
    parts["xl/worksheets/sheet1.xml"] = sheet
    kinds = open_kinds(_zip(parts))
    assert kinds is not None and kinds.sheet("表") is not None


def test_ods_with_millions_of_repeated_formula_cells() -> None:
    content = (b'<?xml version="1.0"?><office:document-content '
               b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet>'
               b'<table:table table:name="S">'
               + b'<table:table-row table:number-rows-repeated="1000"><table:table-cell '
                 b'table:number-columns-repeated="1000" table:formula="of:=1"/></table:table-row>' * 50
               + b"</table:table></office:spreadsheet></office:body></office:document-content>")
    kinds = open_kinds(_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": content}))
    assert kinds is not None
    start = time.process_time()  # CPU time: a busy machine does not stretch it
    found = kinds.sheet("S")
    assert time.process_time() - start < 2
    assert found is not None and 0 < len(found.formulas) <= 1_000_000


@needs_corpus
def test_corpus_reads_as_before_and_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every foreign or hostile workbook reads as calamine alone reads it (same sheets, same failures), each
    within two seconds; the side channel only turns cells into what the file says they are."""
    assert CORPUS_FILES
    for path in CORPUS_FILES:
        data = path.read_bytes()
        start = time.process_time()  # CPU time: a busy machine does not stretch it
        try:
            grids: list[Grid] | None = workbook_grids(path, None, data)[0]
            error = None
        except Exception as exc:
            grids, error = None, type(exc)
        assert time.process_time() - start < 2, path.name
        with monkeypatch.context() as m:
            m.setattr(workbook, "_kinds", lambda path, data: None)
            try:
                plain: list[Grid] | None = workbook_grids(path, None, data)[0]
                plain_error = None
            except Exception as exc:
                plain, plain_error = None, type(exc)
        assert error == plain_error, path.name
        if grids is None or plain is None:
            continue
        assert [g.sheet for g in grids] == [g.sheet for g in plain], path.name
        for grid, base in zip(grids, plain, strict=True):
            before = {base.ref(r, c): v for r, row in enumerate(base.rows) for c, v in enumerate(row)}
            for r, row in enumerate(grid.rows):
                for c, value in enumerate(row):
                    old = before.get(grid.ref(r, c))
                    if isinstance(value, Formula):
                        continue  # its cached value is checked through the cells of our own workbooks above
                    assert value == old or isinstance(old, float | int) or \
                        (isinstance(value, ErrorValue) and old is None), (path.name, grid.ref(r, c), value, old)


def test_calamine_alone_reads_percent_as_a_fraction(typed: Path) -> None:
    """Why the side channel exists: calamine gives the stored 0.95, and nothing for an uncomputed formula."""
    wb = CalamineWorkbook.from_path(str(typed))
    sheet = wb.get_sheet_by_name("表")
    assert sheet.start == (1, 0)
    assert sheet.to_python()[0][0] == 0.95


# --- the value converters -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "unit", "expected"), [
    ("600,000.00", "元", "600000.00"),
    ("600，000", "元", "600000.00"),
    ("¥600000", "元", "600000.00"),
    ("￥600000", "元", "600000.00"),
    ("600000元", "元", "600000.00"),
    ("50万元", "元", "500000.00"),
    ("50 万元", "元", "500000.00"),
    ("0.5万", "元", "5000.00"),
    ("６００，０００．５０", "元", "600000.50"),
    ("600000元", "万元", "600000.00"),  # the unit written in the cell wins
    (12.345678, "万元", "123456.78"),
    ("12.345678", "万元", "123456.78"),
    (0.1 + 0.2, "元", "0.30"),
    (82.0, "元", "82.00"),
    (Formula("=SUM(1,2)", 3.0), "元", "3.00"),
    ("-¥5", "元", "-5.00"),
    ("999999999999999.99", "元", "999999999999999.99"),
])
def test_as_money_reads_what_people_type(value: Any, unit: str, expected: str) -> None:
    assert as_money(value, unit) == Decimal(expected)


@pytest.mark.parametrize("value", [
    "1" * 30, "1" * 16, "1,5", "1,50,000", ".", "abc", "95%", "600 000", "12.345", "1e5", float("nan"), float("inf"),
    True, 1e20, "1.0000001万元", "1." + "0" * 500 + "1", Formula("=A1", None), Formula(None, "x"), ["1"],
])
def test_as_money_refuses_what_is_not_an_amount(value: Any) -> None:
    with pytest.raises(ValueError):
        as_money(value)


def test_as_money_refuses_amounts_too_long_once_in_yuan() -> None:
    assert as_money("99999999999", "万元") == Decimal("999999999990000.00")
    with pytest.raises(ValueError):
        as_money("100000000000", "万元")  # 16 integer digits in 元


@pytest.mark.parametrize(("value", "unit"), [
    ("50万元", "万元"), ("0.5万", "万元"), ("600000元", "元"), ("¥600000", None), ("600000", None), (600000.0, None),
    ("abc", None), (Formula(None, "50万元"), "万元"),
])
def test_money_unit_written(value: Any, unit: str | None) -> None:
    assert money_unit_written(value) == unit


@pytest.mark.parametrize(("value", "text"), [
    (0.30000000000000004, "0.3"), (82.0, "82"), (0.1, "0.1"), (1e20, "100000000000000000000"),
    (123456789.123, "123456789.123"), (-0.5, "-0.5"), (1 / 3, "0.333333333333333"), (2.0 ** 60, "1152921504606850000"),
    (Formula("=100%", 1.0), "=100%"), (Formula(None, 0.30000000000000004), "0.3"), (Formula(None, None), None),
    (Formula("＝100%", None), "＝100%"), (True, "是"), (dt.datetime(2020, 1, 1), "2020-01-01"),
])
def test_as_text_without_float_noise(value: Any, text: str | None) -> None:
    assert as_text(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (0.95, "95%"), (0.995, "99.5%"), (1.0, "100%"), (0.3, "30%"), (1.15, "115%"), (0.07, "7%"), (0, "0%"),
    (-0.05, "-5%"), (0.123456789012345678, "12.3456789012346%"),
])
def test_percent_text(value: float, text: str) -> None:
    assert percent_text(value) == text


def test_number_text_keeps_15_significant_digits() -> None:
    assert number_text(0.1 + 0.2) == "0.3"
    assert number_text(1e-12) == "1E-12"  # an extreme magnitude may keep its exponent
    assert number_text(float("inf")) == "inf"


@pytest.mark.parametrize("value", ["2020年1月1日", "2020.1.1", "2020-01-01", "2020/1/1", "２０２０年１月１日",
                                   dt.datetime(2020, 1, 1), JAN_1, float(SERIAL_JAN_1), Formula(None, JAN_1),
                                   Formula("=DATE(2020,1,1)", float(SERIAL_JAN_1))])
def test_as_date_spellings(value: Any) -> None:
    assert as_date(value) == JAN_1


@pytest.mark.parametrize("value", ["2020-13-01", dt.datetime(2020, 1, 1, 12), Formula("=TODAY()", None), "一月"])
def test_as_date_refusals(value: Any) -> None:
    with pytest.raises(ValueError):
        as_date(value)


def test_formulas_convert_their_cached_value() -> None:
    assert as_year(Formula(None, 2020.0)) == 2020
    assert as_year(Formula("=2019+1", "2020年")) == 2020
    assert as_flag(Formula("=TRUE()", True)) is True
    assert as_flag(Formula(None, "否")) is False
    for convert in (as_year, as_flag, as_date, as_money):
        with pytest.raises(ValueError):
            convert(Formula("=X", None))


@pytest.mark.parametrize(("code", "kind"), [
    ("0%", "percent"), ("0.00%", "percent"), ("0.0%;[Red]-0.0%", "percent"), ('"%"0', None), ("0\\%", None),
    ('0.00"%"', None), ("0_%", None), ("General", None), ("yyyy-mm-dd", None), ('yyyy"年"m"月"d"日"', None),
    ("[$-804]aaaa", "date"), ("ggge", "date"), ("0.00E+00", None), ("#,##0.00", None), ("@", None),
])
def test_format_kind(code: str, kind: str | None) -> None:
    """Percent formats by an unquoted %; dates only where calamine does not recognise them (it does d, m, y…)."""
    assert format_kind(code) == kind


@pytest.mark.parametrize(("formula", "text"), [
    ("of:=100%", "=100%"),
    ("of:=SUM([.A1:.B2];[.C3])", "=SUM(A1:B2,C3)"),
    ('of:=IF([.$A$1]>0;"a;b";"c")', '=IF($A$1>0,"a;b","c")'),
    ("of:=[$Sheet2.A1]", "=[$Sheet2.A1]"),
    ("msoxl:=SUM(A1,B2)", "=SUM(A1,B2)"),
])
def test_openformula_text(formula: str, text: str) -> None:
    assert openformula_text(formula) == text
