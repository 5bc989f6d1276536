"""The flat tables' rows (converter/flat.py) as the CSV files hold them: every field that a spreadsheet would take
for a formula neutralised, every text that cannot be UTF-8 shown as an escape, the periods headed as the form
heads them, whichever way a table's check goes (a column at a time, or field by field)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from converter import canonical
from converter.fields import COLUMNS
from converter.flat import (
    INDICATOR_HEADER,
    csv_field,
    csv_rows,
    declaration_row,
    indicator_rows,
)
from converter.model import Declaration, Indicator, built
from converter.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
# Fields as returned forms carry them: a target typed as a formula, a negative number, a tab, a NUL before a
# formula sign (no formula at the field's start), a lone surrogate from a damaged file, plain text.
AWKWARD = ["=100%", "-5", "+3", "@SUM(A1)", "\t=1", "\r=1", "a\x00=b", "≥95%", "", "普通文本", "x=1"]


def _county() -> Declaration:
    return canonical.loads((ROOT / "examples" / "county-2016.json").read_bytes())[0]


def _expected(file: str, sheet: str | None, decl: Declaration) -> list[tuple[str | None, ...]]:
    """The rows cell by cell, with the public ``csv_field``: what the column-at-a-time path must equal."""
    headings = load_profile(decl.profile).form.table.headings
    rows = []
    for i, ind in enumerate(decl.indicators, start=1):
        cells = [csv_field(getattr(ind, k)) for k in COLUMNS]
        period = ind.period
        cells[list(COLUMNS).index("period")] = headings.get(period, period) if period is not None else None
        row = indicator_rows(file, sheet, replace(decl, indicators=[ind]))[0]
        parsed = row[len(row) - 4:]  # the parsed view is ``row_parts``'s, checked in test_results
        rows.append((csv_field(file), csv_field(sheet), csv_field(decl.unit_name), csv_field(decl.project.name),
                     decl.profile, str(decl.year) if decl.year is not None else None, str(i), *cells, *parsed))
    return rows


def _unchecked(rec: Indicator, **changes: str) -> Indicator:
    """The record with ``changes`` taken as they are, as no reader would leave them (control characters)."""
    return built(Indicator, {**rec.__dict__, **changes})


@pytest.mark.parametrize("surrogate", [False, True])
def test_indicator_rows_neutralise_each_field_as_csv_field_does(surrogate: bool) -> None:
    decl = _county()
    template = decl.indicators[0]
    indicators = [_unchecked(template, target=text, note=AWKWARD[-1 - i], name=f"指标{i}")
                  for i, text in enumerate(AWKWARD)]
    if surrogate:  # one text that is not UTF-8: the whole table takes the careful path
        indicators[3] = _unchecked(indicators[3], unit="\udce4单位")
    decl = replace(decl, indicators=[*decl.indicators, *indicators])
    rows = indicator_rows("a=.xlsx", "=表", decl)
    assert rows == _expected("a=.xlsx", "=表", decl)
    assert all(len(r) == len(INDICATOR_HEADER) for r in rows)
    target = INDICATOR_HEADER.index(COLUMNS["target"].label)
    assert [r[target] for r in rows[-len(AWKWARD):]] == [csv_field(t) for t in AWKWARD]
    assert rows[-len(AWKWARD)][target] == "'=100%" and rows[-5][target] == "a\x00=b"
    period = INDICATOR_HEADER.index(COLUMNS["period"].label)
    assert {r[period] for r in rows} <= set(load_profile(decl.profile).form.table.headings.values())
    if surrogate:
        unit = INDICATOR_HEADER.index(COLUMNS["unit"].label)
        assert rows[-len(AWKWARD) + 3][unit] == "\\udce4单位"


def test_a_declaration_without_indicators_has_no_rows() -> None:
    decl = replace(_county(), indicators=[])
    assert indicator_rows("a.xlsx", None, decl) == []
    assert declaration_row("a.xlsx", None, decl, "json/a.xlsx.json")[-2:] == ("0", "json/a.xlsx.json")


def test_declaration_row_shows_each_field_as_the_csv_does() -> None:
    decl = _county()
    decl = replace(decl, unit_name="=单位", project=replace(decl.project, name="-项目"))
    row = declaration_row("a.xlsx", "表", decl, "@json")
    assert row[2:4] == ("'=单位", "'-项目") and row[-1] == "'@json"
    assert all(v is None or isinstance(v, str) for v in row)


def test_csv_rows_change_only_what_csv_field_changes() -> None:
    rows: list[tuple[str | None, ...]] = [tuple(AWKWARD[i:] + AWKWARD[:i]) for i in range(len(AWKWARD))]
    rows.append((None,) * len(AWKWARD))
    expected = [[csv_field(v) for v in row] for row in rows]
    assert [list(r) for r in csv_rows(rows)] == expected
    plain = [("a", None, "≥1"), ("b", "c", None)]
    assert csv_rows(plain) is plain  # nothing to change: the rows themselves
    damaged = [("a\udcff", "=1"), ("b", None)]
    assert [list(r) for r in csv_rows(damaged)] == [["a\\udcff", "'=1"], ["b", None]]


@pytest.mark.parametrize("seed", range(8))
def test_csv_lines_are_csv_writer_s(seed: int) -> None:
    """``csv_bytes`` (tables joined in C, a row with a field to quote written by ``csv.writer``) writes what
    ``csv.writer`` writes, for the fields a table can hold: commas, quotes, line breaks, NULs, empty texts and
    nothing, and what is not text at all; rows of one field (quoted when empty) and of different lengths."""
    import csv
    import io
    import random
    from decimal import Decimal

    from converter.fragments import csv_bytes

    draw = random.Random(seed)
    fields: list[object] = [*AWKWARD, None, None, "a,b", 'say "hi"', "两行\r\n文字", "\n", "\r", ",", '"', "长" * 50]
    plain: list[object] = ["a", "表", None, "", "≥95%", " x "]
    for width in (1, 2, 5, 24):
        for pool in (plain, fields, [*plain, 3, Decimal("1.50"), 2.5, True]):
            rows = [[draw.choice(pool) for _ in range(width)] for _ in range(draw.choice((1, 3, 40)))]
            for table in (rows, [*rows, rows[0][:-1] or [None, None]], [*rows, []]):
                text = io.StringIO()
                csv.writer(text).writerows(table)
                assert csv_bytes(table) == text.getvalue().encode("utf-8"), table
                assert csv_bytes(iter(table)) == csv_bytes(table)
    assert csv_bytes([]) == b""
