"""The reader's shortcuts give what the general path gives (issue 13): a record built by its fields' own takers,
or without validating it again, is what the pydantic model derived from it validates, our defined names found by
their literal spelling are the names the general pattern finds, a finding made in one step is the one ``located``
makes, and a table row of spaces is a blank row.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.utils.cell
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from converter import canonical, rules
from converter.findings import Finding, Severity
from converter.model import (
    MAX_CELL_CHARS,
    Declaration,
    Indicator,
    Record,
    built,
    fields_of,
    indicator_read,
    indicator_row,
)
from converter.pydantic_model import validated_values
from converter.readers import locate, workbook
from converter.reading import read_file
from converter.writers.xlsx import write_workbook

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"

# Values a reader may hand the model and values it never should: trimmed text, padded text, line breaks (\r too),
# ideographic spaces, control characters, a cell's length and one past it, non-text.
_CELLS = st.one_of(
    st.none(), st.text(max_size=12), st.sampled_from(["a\r\nb", "a\rb", "\u3000x\u3000", "x\x01", "\ufffe",
                                                       "a" * MAX_CELL_CHARS, " " + "a" * MAX_CELL_CHARS,
                                                       "a" * (MAX_CELL_CHARS + 1)]),
    st.integers(), st.floats(allow_nan=False), st.booleans())
_PERIODS = st.one_of(st.none(), st.sampled_from(["annual", "long_term", "other", ""]), st.integers())
_KEYS = st.sampled_from([*(d.name for d in fields_of(Indicator)), "bogus"])


def _validated(cls: type[Record]) -> Any:
    """The record as the pydantic model derived from it validates its values: the oracle of every shortcut."""
    return lambda **fields: built(cls, validated_values(cls, fields))


def _same(got: Record, want: Record) -> None:
    assert got == want
    assert list(got.__dict__) == list(want.__dict__)


def _made(build: Any, fields: dict[str, Any]) -> tuple[Any, str | None]:
    try:
        return build(**fields), None
    except ValidationError as exc:
        return None, str(exc)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_KEYS, _CELLS, max_size=6), _PERIODS)
def test_indicator_is_the_validated_model(fields: dict[str, Any], period: Any) -> None:
    if "period" in fields:
        fields["period"] = period
    want, want_error = _made(_validated(Indicator), fields)
    got, got_error = _made(Indicator, fields)
    assert got_error == want_error
    if want is not None:
        _same(got, want)


def test_finding_made_in_one_step_is_the_located_one() -> None:
    base = Finding.make("I007", Severity.ERROR, "x", "indicators[0].target")
    assert base == Finding(code="I007", severity=Severity.ERROR, message="x", file=None, sheet=None,
                           cell=None, field="indicators[0].target", project=None)
    where = {"file": "a.xlsx", "sheet": "S", "cell": "D19", "project": "P"}
    made = Finding.make("I007", Severity.ERROR, "x", "indicators[0].target", **where)
    copied = base._replace(**where)
    assert made == base.located(**where) == copied
    assert type(made) is Finding and hash(made) == hash(copied)
    assert base.located(file=None) is base  # nothing to fill in: the same finding


def _names_both_ways(xml: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", xml)
    fast = workbook.template_names(zipfile.ZipFile(buf))
    with monkeypatch.context() as m:
        m.setattr(workbook, "_OUR_NAME_TAG", re.compile(rb"(?!)()()()"))  # never matches: the general pattern only
        general = workbook.template_names(zipfile.ZipFile(buf))
    return fast, general


def test_our_names_read_as_the_general_pattern_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decl = canonical.loads((DATA / "declarations-2020.expected.json").read_bytes())[0]
    path = tmp_path / "form.xlsx"
    write_workbook(path, [decl])
    xml = zipfile.ZipFile(path).read("xl/workbook.xml")
    names, profile = workbook.template_names(zipfile.ZipFile(path))
    assert profile == "shanghai-2020" and "pg_indicators" in next(iter(names.values()))
    variants = [
        xml,
        xml.replace(b'<definedName name="pg_year"', b'<definedName hidden="1" name="pg_year"'),  # other order
        xml.replace(b'">"shanghai-2020"<', b'">Sheet1!"shanghai-2020"<'),  # a profile with a sheet part
        xml.replace(b"!$B$4<", b"!$B$4 <"),  # trailing space in a reference
        xml.replace(b'localSheetId="0">', b'localSheetId="5">', 3),  # a sheet index out of range
        xml.replace(b'<sheet ', b'<x:sheet ', 1),  # a prefixed sheet element
    ]
    for variant in variants:
        fast, general = _names_both_ways(variant, monkeypatch)
        assert fast == general
        assert [list(n) for n in fast[0].values()] == [list(n) for n in general[0].values()]


def test_a_table_row_of_spaces_is_a_blank_row(tmp_path: Path) -> None:
    """Read by labels, a row whose cells hold only spaces is blank (it used to stop the reader with an
    IndexError): the form reads as it reads without that row."""
    text = (DATA / "declarations-2020.txt").read_text(encoding="utf-8")
    at = text.index("投入与管理")
    spaced = tmp_path / "spaced.txt"
    spaced.write_text(text[:at] + " \t \n" + text[at:], encoding="utf-8")
    plain = read_file(DATA / "declarations-2020.txt")
    got = read_file(spaced)
    assert [canonical.dumps(d.declaration) for d in got.declarations] == \
        [canonical.dumps(d.declaration) for d in plain.declarations]


@settings(max_examples=400, deadline=None)
@given(_CELLS, _CELLS, _CELLS, _CELLS, _PERIODS)
def test_a_table_row_is_the_validated_model(level1: Any, level2: Any, name: Any, target: Any, period: Any) -> None:
    """``indicator_row``, the readers' builder of a four-column row, is ``Indicator`` with those five keys."""
    fields = {"level1": level1, "level2": level2, "name": name, "target": target, "period": period}
    want, want_error = _made(_validated(Indicator), fields)
    got, got_error = _made(lambda **f: indicator_row(*f.values()), fields)
    assert got_error == want_error
    if want is not None:
        _same(got, want)


# What a reader's inline read leaves of a cell it vouches for (``indicator_read``): printable, trimmed, not empty.
_READ = st.one_of(st.none(), st.text(max_size=12).map(str.strip).filter(lambda t: t != "" and t.isprintable()),
                  st.just("a" * MAX_CELL_CHARS))


@settings(max_examples=300, deadline=None)
@given(_READ, _READ, _READ, _READ, st.sampled_from([None, "annual", "long_term"]))
def test_a_row_read_is_the_validated_model(level1: Any, level2: Any, name: Any, target: Any, period: Any) -> None:
    """``indicator_read``, which looks at nothing again, is ``Indicator`` for every value it is promised."""
    want = _validated(Indicator)(level1=level1, level2=level2, name=name, target=target, period=period)
    _same(indicator_read(level1, level2, name, target, period), want)


_WORDS = st.sampled_from(["预算执行率", "预算 执行率", " 预算执行率", "预算执行率\u3000", "满意度", "a\tb", "ab"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), _WORDS), st.sampled_from([None, "投入管理", "数量", "别的"]),
                          st.sampled_from([None, "annual", "long_term"])), max_size=12))
def test_duplicates_are_found_by_their_key_with_or_without_the_table(rows: list[tuple[Any, Any, Any]]) -> None:
    """G004 (``no_duplicates``) says the same whether ``rule_verdicts`` gives it the table by column or it reads
    the indicators itself, and both say what the key it documents says: a name seen before in the same period and
    level-2 group (a level 2 the form does not know counts as none), its whitespace dropped."""
    empty = {d.name: None for d in fields_of(Indicator)}
    indicators = [built(Indicator, {**empty, "level1": "产出指标", "level2": level2, "name": name, "period": period})
                  for name, level2, period in rows]
    decl = Declaration(profile="shanghai-2020", indicators=indicators)
    by_rows = rules.Context.of(decl, [rules.row_of(i) for i in indicators])
    got = list(rules.no_duplicates(decl, by_rows))
    assert got == list(rules.no_duplicates(decl, rules.Context.of(decl)))
    profile = by_rows.profile
    seen: dict[tuple[Any, ...], int] = {}
    want = []
    for i, (name, level2, period) in enumerate(rows):
        if name is not None:
            key = (period, level2 if profile.canonical_level2(level2) else None, re.sub(r"\s+", "", name))
            first = seen.setdefault(key, i)
            if first != i:
                want.append((f"indicators[{i}].name", {"name": name, "first": first + 1}))
    assert [(h.field, dict(h.params)) for h in got] == want


def _table_read_generally(block: Any, tables: Any, period: Any, profile: Any, mark: int) -> list[Indicator]:
    """What ``locate`` does for a form that is not our template: ``_table_rows`` then ``_read_indicators``."""
    rows = locate._table_rows(block, tables, period, template=True)
    return locate._read_indicators(block, rows, tables, profile, template=True)


def _edited(path: Path, seed: int) -> None:
    """Our template as staff leave it: level cells blanked or merged, text and numbers where they do not belong,
    blank and space-only rows, a formula, something beside the table."""
    rnd = random.Random(seed)
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for name, ref in list(ws.defined_names.items()):
            if not name.startswith("pg_indicators"):
                continue
            (c1, r1), (c2, r2) = (openpyxl.utils.cell.coordinate_from_string(x.replace("$", ""))
                                  for x in ref.attr_text.split("!")[1].split(":"))
            first, last = openpyxl.utils.column_index_from_string(c1), openpyxl.utils.column_index_from_string(c2)
            filled = [r for r in range(r1, r2 + 1) if ws.cell(r, first + 2).value is not None]
            for _ in range(rnd.randrange(3, 10)):
                r, c = rnd.choice(filled), rnd.randrange(first, last + 3)  # past the table's check column too
                ws.cell(r, c).value = rnd.choice([None, "  ", "\u3000", 95, 0.9, "=1+1", "其他说明", "产出指标",
                                                  "数量指标", "≥90%", "x" * 40])
            if rnd.random() < 0.5 and len(filled) > 3:  # a level merged down a few rows, as returned forms do
                r = rnd.choice(filled[:-2])
                col = first + rnd.randrange(2)
                for k in (1, 2):
                    ws.cell(r + k, col).value = None
                ws.merge_cells(start_row=r, start_column=col, end_row=r + 2, end_column=col)
            if rnd.random() < 0.3:
                ws.cell(r2 + 1, first).value = "表外的备注"
    wb.save(path)


@pytest.mark.parametrize("source", ["county-2016", "national-2015", "national-2021", "shanghai-2025", "shanghai-2020"])
def test_our_template_read_in_one_pass_is_the_general_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           source: str) -> None:
    """A filled template of each form, edited as staff edit it: the one pass over each row (``_template_rows``)
    reads what ``_table_rows`` and ``_read_indicators`` read — the same declarations, the same findings at the
    same cells."""
    json_file = DATA / "declarations-2020.expected.json" if source == "shanghai-2020" else EXAMPLES / f"{source}.json"
    decls = canonical.loads(json_file.read_bytes())

    def both(path: Path) -> tuple[Any, Any]:
        reads = []
        for general in (False, True):
            with monkeypatch.context() as m:
                if general:
                    m.setattr(locate, "_template_rows", _table_read_generally)
                got = read_file(path)
            reads.append(([canonical.dumps(d.declaration) for d in got.declarations],
                          [(f.code, f.sheet, f.cell, f.field, f.message) for f in got.all_findings()]))
        return reads[0], reads[1]

    for seed in range(6):
        path = tmp_path / f"{seed}.xlsx"
        write_workbook(path, decls)
        if seed:
            _edited(path, seed)
        one_pass, general = both(path)
        assert one_pass[0], seed  # declarations were read
        assert one_pass == general, seed
