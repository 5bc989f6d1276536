"""The Excel templates of every profile: generated from model and profile, validated by a real LibreOffice."""

from __future__ import annotations

import datetime as dt
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from converter.fields import COLUMNS, HEADER
from converter.model import Kind
from converter.profile import load_profile, profile_names
from converter.reading import read_file
from converter.template_layout import LISTS_SHEET, META_SHEET, TEMPLATE_VERSION, sheet_layout
from converter.writers.xlsx import build_workbook, workbook_bytes

from . import lo

ROOT = Path(__file__).parent.parent
PROFILES = profile_names()


@pytest.mark.parametrize("name", PROFILES)
def test_committed_template_equals_generator(name: str) -> None:
    committed = (ROOT / "templates" / f"{name}.xlsx").read_bytes()
    assert committed == workbook_bytes(build_workbook([None], load_profile(name))), (
        f"templates/{name}.xlsx is stale: run `perfgoal template -o templates/{name}.xlsx --profile {name}`")


def test_generator_is_deterministic() -> None:
    assert workbook_bytes(build_workbook([None])) == workbook_bytes(build_workbook([None]))


def _template(name: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(ROOT / "templates" / f"{name}.xlsx")


@pytest.mark.parametrize("name", PROFILES)
def test_labels_names_and_layout(name: str) -> None:
    """Every field the profile prints has its label (the profile's), its defined name and its value cell; every
    table its heading, its column headings and its name."""
    profile = load_profile(name)
    layout = sheet_layout(profile)
    ws = _template(name)["申报表"]
    assert ws["A1"].value == profile.form.title
    assert [s.path for s in layout.slots] == list(profile.header_paths())
    for slot in layout.slots:
        label = ws[slot.label_ref].value
        assert label.startswith(profile.label(slot.path)) and label.endswith("：")
        assert ("*" in label) == (slot.path in profile.required_fields)
        assert ws.defined_names[slot.name].attr_text == f"'申报表'!${slot.value_col}${slot.row}"
        if HEADER[slot.path].kind is Kind.MONEY:
            assert f"（{profile.money_unit}）" in label
    for table in layout.tables:
        headings = [ws[f"{layout.column_of(k)}{table.header_row}"].value for k in layout.keys]
        assert headings == [profile.column_label(k) for k in layout.keys]
        if table.period is not None:
            assert ws[f"A{table.heading_row}"].value == profile.form.table.headings[table.period]
        ref = ws.defined_names[table.name].attr_text
        assert ref == f"'申报表'!$A${table.first_row}:${layout.letters[len(layout.keys) - 1]}${table.last_row}"
        assert table.last_row - table.first_row + 1 >= profile.form.table.rows


@pytest.mark.parametrize("name", PROFILES)
def test_lists_live_on_a_hidden_sheet_behind_names(name: str) -> None:
    wb = _template(name)
    profile = load_profile(name)
    assert wb[LISTS_SHEET].sheet_state == "hidden" and wb[META_SHEET].sheet_state == "hidden"
    lists = wb[LISTS_SHEET]

    def items(list_name: str) -> list[str]:
        ref = wb.defined_names[list_name].attr_text.split("!")[1].replace("$", "")
        return [c.value for (c,) in lists[ref] if c.value is not None]

    assert items("pg_level1") == profile.level1_names()
    printed = [HEADER[p].choices for p in profile.header_paths()] + \
        [COLUMNS[c.key].choices for c in profile.form.table.columns]
    for choices in filter(None, printed):
        assert items(f"pg_list_{choices}") == list(getattr(profile.lists, choices))
    meta = {r[0].value: r[1].value for r in wb[META_SHEET].iter_rows()}
    assert meta == {"数据格式版本": "1.0", "表式版本": name, "表式名称": profile.title, "模板版本": TEMPLATE_VERSION}


@pytest.mark.parametrize("name", PROFILES)
def test_validations(name: str) -> None:
    """Every input has a validation derived from its kind: lists behind names, dates near the year cell,
    amounts ≥ 0 in the form's unit, and for the table a rule per column."""
    profile = load_profile(name)
    layout = sheet_layout(profile)
    ws = _template(name)["申报表"]
    by_cell = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.allow_blank is True, dv.sqref  # blank inputs are valid; required fields are shown by colour
        assert dv.prompt and dv.error and dv.showErrorMessage and dv.showInputMessage
        assert any("\u4e00" <= ch <= "\u9fff" for ch in dv.error + dv.prompt)  # Chinese for staff
        assert not (dv.type == "list" and (dv.formula1 or "").startswith('"')), "list literals break past 255"
        for rng in str(dv.sqref).split():
            by_cell[rng.split(":")[0]] = dv
    refs = {s.path: s.value_ref for s in layout.slots}
    for path, ref in refs.items():
        kind = HEADER[path].kind
        if kind is Kind.MONEY:
            places = {"元": 2, "万元": 6}[profile.money_unit]
            assert f"ROUND({ref},{places})={ref}" in by_cell[ref].formula1 and f"{ref}>=0" in by_cell[ref].formula1
        elif kind is Kind.DATE:
            assert f"ABS(YEAR({ref})-$" in by_cell[ref].formula1  # follows the year cell, not a constant
        elif kind is Kind.YEAR:
            assert (by_cell[ref].type, by_cell[ref].formula2) == ("whole", "2999")
        elif HEADER[path].choices and getattr(profile.lists, HEADER[path].choices):
            assert by_cell[ref].formula1 == f"pg_list_{HEADER[path].choices}"
    if "budget.current_year" in refs and "budget.total" in refs:
        assert f"{refs['budget.current_year']}<={refs['budget.total']}" in by_cell[refs["budget.current_year"]].formula1
    first = layout.tables[0].first_row
    expected = {"level1": ("list", "stop"), "level2": ("list", "warning"), "name": ("textLength", "warning"),
                "target": ("textLength", "warning"), "comparator": ("list", "stop"), "unit": ("textLength", "warning"),
                "direction": ("list", "stop"), "weight": ("decimal", "stop"), "note": ("textLength", "warning")}
    for key in layout.keys:
        dv = by_cell[f"{layout.column_of(key)}{first}"]
        assert (dv.type, dv.errorStyle) == expected[key], key
    assert sum(1 for t in layout.tables for k in layout.keys if f"{layout.column_of(k)}{t.first_row}" in by_cell) \
        == len(layout.tables) * len(layout.keys)


@pytest.mark.parametrize("name", PROFILES)
def test_protection_formatting_and_print_setup(name: str) -> None:
    profile = load_profile(name)
    layout = sheet_layout(profile)
    ws = _template(name)["申报表"]
    assert ws.protection.sheet is True and not ws.protection.password
    assert ws.protection.insertRows is False  # staff may insert indicator rows
    for slot in layout.slots:
        assert ws[slot.label_ref].protection.locked is True
        assert ws[slot.value_ref].protection.locked is False
    last = layout.tables[-1]
    assert ws[f"{layout.column_of('name')}{last.last_row}"].protection.locked is False
    assert ws[f"{layout.column_of('target')}{last.first_row}"].number_format == "@"  # "95%" stays text
    required = {s.value_ref for s in layout.slots if s.path in profile.required_fields}
    formatted = {str(rng.sqref) for rng in ws.conditional_formatting}
    assert required <= formatted
    assert int(ws.page_setup.paperSize) == 9 and int(ws.page_setup.fitToWidth) == 1  # A4, one page wide
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    if len(layout.tables) == 1:
        assert ws.print_title_rows == f"${layout.tables[0].header_row}:${layout.tables[0].header_row}"
    assert ws["A1"].font.name == "宋体"


def _bad_values(name: str, out: Path, year: int) -> list[str]:
    """Fill a profile's template with one right and several wrong values; return the cells that are wrong."""
    profile = load_profile(name)
    layout = sheet_layout(profile)
    wb = _template(name)
    ws = wb["申报表"]
    refs = {s.path: s.value_ref for s in layout.slots}
    wrong: list[str] = []
    ws[refs["year"]] = year
    if "project.start_date" in refs:
        ws[refs["project.start_date"]] = dt.date(year + 1, 6, 30)  # the declared year + 1: valid
        ws[refs["project.end_date"]] = dt.date(year + 3, 1, 1)  # three years off: invalid
        wrong.append(refs["project.end_date"])
    money = [p for p in refs if HEADER[p].kind is Kind.MONEY]
    ws[refs[money[0]]] = -5
    wrong.append(refs[money[0]])
    ws[refs[money[1]]] = 1.1234567 if profile.money_unit == "万元" else 100.555
    wrong.append(refs[money[1]])
    for path in refs:
        if HEADER[path].choices in profile.lists.CLOSED:
            ws[refs[path]] = "也许"
            wrong.append(refs[path])
    t = layout.tables[-1]
    r = t.first_row
    for key, (good, bad) in {"level1": (profile.level1_names()[0], "乱填"), "comparator": ("≥", "约"),
                             "direction": ("正向", "上升"), "weight": (10, 150)}.items():
        col = layout.column_of(key)
        if col is not None:
            ws[f"{col}{r}"] = good
            ws[f"{col}{r + 1}"] = bad
            wrong.append(f"{col}{r + 1}")
    name_col = layout.column_of("name")
    ws[f"{name_col}{r + 2}"] = "指" * (profile.thresholds.indicator_name_max_chars + 1)
    wrong.append(f"{name_col}{r + 2}")
    wb.save(out)
    return wrong


def _cell_order(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    return int(ref[len(letters):]), len(letters) * 100 + ord(letters[-1])


def test_libreoffice_marks_exactly_the_invalid_cells(tmp_path: Path) -> None:
    """Mark Invalid Data in a real LibreOffice, for every profile's template: blank and filled forms show no mark;
    wrong values are marked, and a date rule follows the year cell (2027 works today, three years off does not)."""
    blanks = [ROOT / "templates" / f"{n}.xlsx" for n in PROFILES]
    filled = sorted((ROOT / "examples").glob("*.xlsx"))
    bad = {n: tmp_path / f"bad-{n}.xlsx" for n in PROFILES}
    wrong = {n: _bad_values(n, path, 2027) for n, path in bad.items()}
    result = lo.invalid_cells(*blanks, *filled, *bad.values())
    for path in blanks:
        assert all(cells == [] for cells in result[str(path)].values()), path
    for path in filled:  # only what `check` also finds: a category outside the profile's list (the user's sample)
        (found,) = read_file(path).declarations
        listed = sorted(f.cell for f in found.findings if f.code in ("H003", "H004"))
        assert result[str(path)][found.sheet] == listed, path
    for name, path in bad.items():
        marked = [_anchor(path, ref) for ref in result[str(path)]["申报表"]]
        assert sorted(marked, key=_cell_order) == sorted(wrong[name], key=_cell_order), name


def _anchor(path: Path, ref: str) -> str:
    """LibreOffice names a merged input by its last cell; the form names it by its first."""
    ws = openpyxl.load_workbook(path)["申报表"]
    found = next((m for m in ws.merged_cells.ranges if ref in m), None)
    return found.start_cell.coordinate if found is not None else ref


def test_libreoffice_prints_the_template(tmp_path: Path) -> None:
    pdfs = lo.convert([ROOT / "templates" / f"{n}.xlsx" for n in PROFILES], "pdf", tmp_path)
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 5000
        pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert "Pages:" in pages


@pytest.mark.parametrize("name", PROFILES)
def test_template_zip_has_no_macros_or_external_links(name: str) -> None:
    names = zipfile.ZipFile(ROOT / "templates" / f"{name}.xlsx").namelist()
    assert not [n for n in names if "vbaProject" in n or "externalLink" in n]
