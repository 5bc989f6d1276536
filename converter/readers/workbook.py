"""Workbooks (xlsx, xlsm, xls, ods) as grids, read with python-calamine.

calamine reads all four formats, is an order of magnitude faster than openpyxl (see the pitfalls notes),
and gives merged ranges; that is all the label locator needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from .grid import Grid


def _clean(value: Any) -> Any:
    return None if value == "" else value


def workbook_grids(path: Path) -> list[Grid]:
    """One grid per visible or hidden worksheet (chart sheets have no cells)."""
    wb = CalamineWorkbook.from_path(str(path))
    try:
        grids = []
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            rows = [[_clean(v) for v in row] for row in sheet.to_python(skip_empty_area=True)]
            start = sheet.start or (0, 0)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
            grids.append(Grid(sheet=name, rows=rows, origin=(start[0], start[1]), merged=merged))
        return grids
    finally:
        wb.close()
