"""Every profile end to end: its committed example, its template filled as staff fill it, other profiles forced,
LibreOffice re-saves, and any valid declaration of any profile through JSON → xlsx → JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings

from converter import canonical
from converter.fields import COLUMNS, HEADER, get_field
from converter.model import Declaration, Kind
from converter.profile import in_unit, load_profile, profile_names
from converter.reading import read_file
from converter.template_layout import sheet_layout
from converter.writers.xlsx import write_workbook

from . import lo
from .strategies import declarations_of

ROOT = Path(__file__).parent.parent
EXAMPLES = {name: ROOT / "examples" / f"{name}.json" for name in profile_names() if name != "shanghai-2020"}


def _json(path: Path, profile: str | None = None) -> str:
    result = read_file(path, profile=profile)
    assert result.readable and result.declarations, result.findings
    return canonical.dumps_many(d.declaration for d in result.declarations)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_committed_example_reads_back_exactly(name: str) -> None:
    """examples/<profile>.xlsx is what `perfgoal to-xlsx examples/<profile>.json` writes, and reads back to it."""
    source = EXAMPLES[name].read_text(encoding="utf-8")
    (decl,) = canonical.loads(source)
    assert decl.profile == name
    xlsx = ROOT / "examples" / f"{name}.xlsx"
    tmp = xlsx.with_name(f".{name}.check.xlsx")
    try:
        write_workbook(tmp, [decl])
        assert tmp.read_bytes() == xlsx.read_bytes(), \
            f"examples/{name}.xlsx is stale: run `perfgoal to-xlsx examples/{name}.json -o examples/{name}.xlsx`"
    finally:
        tmp.unlink(missing_ok=True)
    result = read_file(xlsx)
    (found,) = result.declarations
    assert canonical.dumps(found.declaration) == source
    assert [f for f in found.findings if f.severity != "info"] == [], "the example is a clean declaration"


def _fill(name: str, decl: Declaration, out: Path) -> None:
    """Type a declaration into the blank template as staff do: into the named cells, dates as dates, amounts as
    numbers in the form's unit, the table row by row."""
    profile = load_profile(name)
    layout = sheet_layout(profile)
    wb = openpyxl.load_workbook(ROOT / "templates" / f"{name}.xlsx")
    ws = wb["申报表"]
    for slot in layout.slots:
        value = get_field(decl, slot.path)
        kind = HEADER[slot.path].kind
        if value is None:
            continue
        if kind is Kind.MONEY:
            value = float(in_unit(value, profile.money_unit))
        elif kind is Kind.FLAG:
            value = "是" if value else "否"
        ws[slot.value_ref] = value
    for table in layout.tables:
        rows = [i for i in decl.indicators if i.period == table.period]
        for offset, ind in enumerate(rows):
            for key in layout.keys:
                value = getattr(ind, key)
                if value is not None:
                    ws[f"{layout.column_of(key)}{table.first_row + offset}"] = value
    wb.save(out)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_template_filled_reads_back_as_the_json(name: str, tmp_path: Path) -> None:
    (decl,) = canonical.loads(EXAMPLES[name].read_text(encoding="utf-8"))
    out = tmp_path / f"{name}.xlsx"
    _fill(name, decl, out)
    assert _json(out) == canonical.dumps_many([decl])


@pytest.mark.parametrize("forced", profile_names())
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_other_profiles_forced_give_findings_not_garbage(name: str, forced: str) -> None:
    """Read with the wrong profile forced, a form keeps every value where the form put it; what does not fit the
    forced profile is said by findings with cells, never by shifted or invented values."""
    (decl,) = canonical.loads(EXAMPLES[name].read_text(encoding="utf-8"))
    result = read_file(ROOT / "examples" / f"{name}.xlsx", profile=forced)
    (found,) = result.declarations
    got = found.declaration
    assert got.profile == forced
    assert replace(got, profile="x") == replace(decl, profile="x")
    assert all(f.cell for f in found.findings if f.code.startswith(("I", "R")))
    if set(load_profile(forced).level1_names()) != set(load_profile(name).level1_names()):
        assert {f.code for f in found.findings} & {"I002", "I004", "I005", "G002", "G003"}


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_libreoffice_resave_reads_back(fmt: str, tmp_path: Path) -> None:
    resaved = lo.convert([ROOT / "examples" / f"{n}.xlsx" for n in EXAMPLES], fmt, tmp_path / fmt)
    for path, name in zip(resaved, EXAMPLES, strict=True):
        assert _json(path) == canonical.dumps_many(canonical.loads(EXAMPLES[name].read_bytes())), path
        (found,) = read_file(path).declarations
        assert [f for f in found.findings if f.code.startswith(("R", "F"))] == [], path


@given(declarations_of())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_valid_declaration_of_any_profile_round_trips(tmp_path: Path, decl: Declaration) -> None:
    path = tmp_path / f"{decl.profile}.xlsx"
    write_workbook(path, [decl])
    assert _json(path) == canonical.dumps_many([decl])


def test_money_in_wan_yuan_is_exact(tmp_path: Path) -> None:
    """万元 on the form, 元 in the JSON: no float on the way in or out."""
    decl = Declaration(profile="national-2021", project={"name": "金额"},
                       budget={"total": "123456789.01", "current_year": "0.01", "fiscal_funds": "99999999999.99"})
    path = tmp_path / "m.xlsx"
    write_workbook(path, [decl])
    ws = openpyxl.load_workbook(path)["金额"]
    layout = sheet_layout(load_profile("national-2021"))
    cells = {s.path: ws[s.value_ref].value for s in layout.slots}
    assert cells["budget.total"] == pytest.approx(12345.678901) and cells["budget.current_year"] == 0.000001
    assert _json(path) == canonical.dumps_many([decl])


def test_dates_and_columns_of_every_kind_are_declared() -> None:
    """Every column a profile prints and every header field is a field of the model with a kind."""
    for name in profile_names():
        profile = load_profile(name)
        assert all(p in HEADER for p in profile.header_paths())
        assert all(c.key in COLUMNS for c in profile.form.table.columns)
        assert profile.money_unit in ("元", "万元")
    assert dt.date.today().year <= 2999
