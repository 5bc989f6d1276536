"""The old four-column layout in every workbook format, several forms per workbook (one per sheet)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from converter.readers.workbook import template_names
from converter.reading import read_file

from . import lo
from .conftest import SAMPLE

FORMS = SAMPLE.read_text(encoding="utf-8").split("\n\n财政项目")


def _old_workbook(path: Path) -> list[str]:
    """Two sample forms on two sheets, each somewhere else on its sheet, with real dates and numbers."""
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    names = []
    for n, (text, (top, left)) in enumerate(zip(FORMS[1:3], [(2, 1), (5, 3)], strict=True)):
        ws = wb.create_sheet(f"表{n + 1}")
        lines = ("财政项目" + text).strip("\n").splitlines()
        for r, line in enumerate(lines, start=top):
            for c, value in enumerate(line.split("\t"), start=left):
                if value:
                    cell = ws.cell(r, c, value)
                    cell.data_type = "s"
        date_cell = ws.cell(top + 4, left + 1)
        date_cell.value = dt.date.fromisoformat(str(date_cell.value).replace("/", "-"))
        total = ws.cell(top + 14, left + 1)
        total.value = float(str(total.value).replace(",", ""))
        names.append(lines[3].split("\t")[1])
    wb.save(path)
    return names


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("old") / "old.xlsx"
    return path, _old_workbook(path)


def _expected(names: list[str]) -> list[object]:
    found = {d.declaration.project.name: d.declaration for d in read_file(SAMPLE).declarations}
    return [found[n] for n in names]


def test_old_layout_xlsx_two_sheets(old: tuple[Path, list[str]]) -> None:
    path, names = old
    result = read_file(path)
    assert [d.sheet for d in result.declarations] == ["表1", "表2"]
    assert [d.declaration for d in result.declarations] == _expected(names)


@pytest.mark.parametrize("fmt", ["xls", "ods", "xlsm"])
def test_old_layout_in_other_formats(old: tuple[Path, list[str]], tmp_path: Path, fmt: str) -> None:
    path, names = old
    if fmt == "xlsm":
        lo.FILTERS.setdefault("xlsm", "xlsm:Calc MS Excel 2007 VBA XML")
    (converted,) = lo.convert([path], fmt, tmp_path)
    result = read_file(converted)
    assert [d.declaration for d in result.declarations] == _expected(names)
    repaired = [f for d in result.declarations for f in d.findings if f.code == "R001"]
    assert repaired and all(f.sheet in ("表1", "表2") and f.cell for f in repaired)


def test_wrong_extension_is_read_by_content(old: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, names = old
    disguised = tmp_path / "old.xls"
    disguised.write_bytes(path.read_bytes())
    result = read_file(disguised)
    assert [d.declaration for d in result.declarations] == _expected(names)



@pytest.mark.parametrize(("ref", "cells"), [("'申报表'!$B$4", (3, 1, 3, 1)), ("'a!b'!$A$18:$D$77", (17, 0, 76, 3)),
                                            ("'it''s'!B2", (1, 1, 1, 1)), ("'申报表'!#REF!", None),
                                            ("'x'!$B", None), ('"shanghai-2020"', None)])
def test_template_names_read_the_cells_after_the_sheet(tmp_path: Path, ref: str, cells: tuple[int, ...] | None
                                                       ) -> None:
    """Names are read by pattern with their cell part cached; the sheet is the name's scope."""
    path = tmp_path / "n.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "申报表"
    ws.defined_names["pg_unit_name"] = DefinedName("pg_unit_name", attr_text=ref)
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        names, _ = template_names(z)
    assert names == ({"申报表": {"pg_unit_name": cells}} if cells else {})
