"""The side channel's fast paths read exactly what its general paths read.

Formula cells are placed by the tag right before them when it is spelled as Excel, LibreOffice and openpyxl
spell it (``_formulas_plain``); any other spelling sends the sheet to the general scan, whose answer a real
XML parse (``_sheet_by_parse``) confirms. The workbook part is read straight from the package's bytes when
zipfile would read the same bytes (``member_bytes``), and by zipfile otherwise; the side channel finds it
inflated already. Workbooks are built here as real packages and read through the public functions.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.formula.translate import Translator
from python_calamine import CalamineWorkbook

from converter.readers import cell_kinds
from converter.readers.cell_kinds import member_bytes, open_kinds
from converter.readers.grid import ErrorValue, Formula, shift_references
from converter.readers.workbook import template_names, workbook_grids

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _package(sheet: str, sheet_name: str = "S", names: str = "", method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal xlsx package with one sheet whose XML is ``sheet`` (a ``sheetData`` element and what follows)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>'
            f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets>{names}</workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'))
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}">{sheet}</worksheet>')
    return buffer.getvalue()


def _sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("xl/worksheets/sheet1.xml")


# Formula cells as applications write them, and as they may be written: the first ones take the plain path,
# the others send the sheet (wherever they stand in it) to the general scan.
_PLAIN = [
    '<c r="A{row}"><f>1+{row}</f><v>2</v></c>',
    '<c r="B{row}" s="0" t="str"><f>IF(A{row}&gt;1,&quot;x&quot;,&quot;&lt;y&quot;)</f><v>x</v></c>',
    '<c r="C{row}" t="n">\n  <f>3</f><v>3</v></c>',  # the tag right before, with a line break after it
    '<c r="D{row}"><f/><v>1</v></c>',
    '<c r="E{row}"><f t="array" ref="E{row}">SUM(A1:A2)</f><v>3</v></c>',
]
_OTHER = [
    '<c s="0" r="F{row}"><f>1</f><v>1</v></c>',  # the reference after another attribute
    "<c r='F{row}'><f>2</f><v>2</v></c>",  # single quotes
    '<c r="F{row}" t="n"><!-- a comment --><f>3</f><v>3</v></c>',  # another tag between
    '<c  r="F{row}"><f>4</f><v>4</v></c>',  # two spaces
]
_SHARED = ('<c r="G1"><f t="shared" ref="G1:G9" si="0">A1*2</f><v>4</v></c>',  # filled down from G1
           '<c r="G{row}"><f t="shared" si="0"/><v>4</v></c>')


def _rows(cells: list[str], rows: int) -> str:
    body = "".join(f'<row r="{r}">' + "".join(c.format(row=r) for c in cells) +
                   _SHARED[int(r > 1)].format(row=r) + "</row>" for r in range(1, rows + 1))
    return f"<sheetData>{body}</sheetData>"


def _general(xml: bytes, ns: bytes = b"") -> dict[tuple[int, int], str | None]:
    """What the general scan reads (or, where it cannot place a formula, a real parse), and what a real parse
    confirms of it: every formula in its cell, with its text (a shared formula's other cells have none in the
    file: the scan gives them the first cell's, moved)."""
    kinds = cell_kinds.SheetKinds()
    parsed = cell_kinds._sheet_by_parse(xml, {})
    assert parsed is not None
    if not cell_kinds._formulas_placed(xml, ns, kinds):
        return parsed.formulas
    assert parsed.formulas.keys() == kinds.formulas.keys()
    assert {p: t for p, t in parsed.formulas.items() if t is not None} == \
        {p: t for p, t in kinds.formulas.items() if t is not None and (p[1] != 6 or p[0] == 0)}
    return kinds.formulas


def test_plain_sheets_read_as_a_parse_reads_them() -> None:
    data = _package(_rows(_PLAIN, 4))
    xml = _sheet_xml(data)
    assert cell_kinds._formulas_plain(xml, b"") is not None  # the fast path read it
    kinds = open_kinds(data)
    assert kinds is not None
    found = kinds.sheet("S")
    assert found is not None and found.formulas == _general(xml)
    assert found.formulas[(2, 6)] == "=A3*2" and found.formulas[(0, 1)] == '=IF(A1>1,"x","<y")'
    assert found.formulas[(0, 3)] is None and found.formulas[(0, 2)] == "=3"


@pytest.mark.parametrize("other", _OTHER)
@pytest.mark.parametrize("row", [1, 3, 5])
def test_any_other_spelling_reads_the_whole_sheet_the_general_way(other: str, row: int) -> None:
    sheet = _rows(_PLAIN, 5)
    sheet = sheet.replace(f'<row r="{row}">', f'<row r="{row}">' + other.format(row=row), 1)
    data = _package(sheet)
    xml = _sheet_xml(data)
    assert cell_kinds._formulas_plain(xml, b"") is None  # the fast path gives up ...
    kinds = open_kinds(data)
    assert kinds is not None
    found = kinds.sheet("S")
    assert found is not None and found.formulas == _general(xml)  # ... and nothing is lost
    assert (row - 1, 5) in found.formulas


def test_prefixed_sheets_take_the_plain_path_too() -> None:
    sheet = _rows(_PLAIN, 3)
    prefixed = sheet.replace("<", "<x:").replace("<x:/", "</x:")
    data = _package("")  # its other parts
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = f'<?xml version="1.0"?><x:worksheet xmlns:x="{_MAIN}">{prefixed}</x:worksheet>'.encode()
            out.writestr(info.filename, body)
    xml = _sheet_xml(buffer.getvalue())
    assert cell_kinds._formulas_plain(xml, b"x:") is not None
    kinds = open_kinds(buffer.getvalue())
    assert kinds is not None
    found = kinds.sheet("S")
    assert found is not None and found.formulas == _general(xml, b"x:") and len(found.formulas) > 10


def test_error_values_with_a_reference_for_their_hash_sign() -> None:
    """An error value always holds "#" (the scan for error cells is skipped without one), also as ``&#35;``."""
    data = _package('<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1" t="e"><v>&#35;N/A</v></c>'
                    '<c r="C1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData>')
    kinds = open_kinds(data)
    assert kinds is not None
    found = kinds.sheet("S")
    assert found is not None and found.errors == {(0, 1): "#N/A", (0, 2): "#DIV/0!"}
    grid = workbook_grids(Path("built.xlsx"), None, data)[0][0]  # the path only names the file
    assert grid.rows[0][1] == ErrorValue("#N/A") and grid.rows[0][2] == Formula("=1/0", ErrorValue("#DIV/0!"))
    plain = open_kinds(_package('<sheetData><row r="1"><c r="A1" t="str"><f>"e"</f><v>e</v></c></row></sheetData>'))
    assert plain is not None
    found = plain.sheet("S")
    assert found is not None and not found.errors


_NAMES = ('<definedNames><definedName name="pg_profile">"shanghai-2020"</definedName>'
          '<definedName name="pg_year" localSheetId="0">S!$B$2</definedName></definedNames>')


def _damaged(data: bytes, how: str) -> bytes:
    """The package with its workbook part damaged in one way zipfile notices (or, for "ok", not at all)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("xl/workbook.xml")
    at = info.header_offset
    body = bytearray(data)
    if how == "local name":
        body[at + 30:at + 32] = b"XL"
    elif how == "checksum" and info.compress_type == zipfile.ZIP_STORED:
        body[body.index(b"S!"):body.index(b"S!") + 2] = b"T!"
    elif how == "checksum":
        start = at + 30 + int.from_bytes(data[at + 26:at + 28], "little") + \
            int.from_bytes(data[at + 28:at + 30], "little")
        raw = zlib.decompressobj(-15).decompress(data[start:start + info.compress_size])
        changed = zlib.compressobj(9, zlib.DEFLATED, -15)
        again = changed.compress(raw.replace(b"S!", b"T!")) + changed.flush()
        assert len(again) <= info.compress_size
        body[start:start + len(again)] = again
    elif how in ("encrypted flag", "bzip2"):  # in the directory, which zipfile goes by
        entry = data.index(b"PK\x01\x02")  # the directory's first entry ...
        while data[entry + 46:entry + 46 + 15] != b"xl/workbook.xml":  # ... up to the workbook part's
            entry = data.index(b"PK\x01\x02", entry + 4)
        if how == "bzip2":
            body[entry + 10:entry + 12] = zipfile.ZIP_BZIP2.to_bytes(2, "little")
        else:
            body[entry + 8] |= 1
    return bytes(body)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
@pytest.mark.parametrize("how", ["ok", "local name", "checksum", "bzip2", "encrypted flag"])
def test_workbook_part_read_as_zipfile_reads_it(method: int, how: str) -> None:
    data = _damaged(_package("<sheetData/>", names=_NAMES, method=method), how)
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.getinfo("xl/workbook.xml")
    try:
        expected: bytes | type[Exception] = z.read(info)
    except Exception as exc:
        expected = type(exc)
    fast = member_bytes(data, info)
    assert fast == expected if how == "ok" else fast is None  # None: zipfile is asked, and decides
    try:
        slow: object = template_names(z)
    except Exception as exc:
        slow = type(exc)
    try:
        quick: object = template_names(z, data)
    except Exception as exc:
        quick = type(exc)
    assert quick == slow
    if how == "ok":
        assert quick == ({"S": {"pg_year": (1, 1, 1, 1)}}, "shanghai-2020")


def test_the_remembered_workbook_part_is_the_file_s_own() -> None:
    """The workbook part just read for the names is not inflated again; another file's is never taken for it."""
    first = _package(_rows(_PLAIN[:1], 2), sheet_name="甲", names=_NAMES)
    second = _package(_rows(_PLAIN[:1], 3), sheet_name="乙", names=_NAMES)
    for data, name, other in ((first, "甲", "乙"), (second, "乙", "甲"), (first, "甲", "乙")):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            template_names(z, data)
            infos = z.infolist()
        kinds = open_kinds(data, infos)
        assert kinds is not None and kinds.sheet(other) is None
        found = kinds.sheet(name)
        assert found is not None and found.formulas == _general(_sheet_xml(data))
        assert CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names == [name]


_REF_PART = st.tuples(st.sampled_from(["", "$"]), st.sampled_from(["A", "C", "Z", "AA", "AZ", "XFA"]),
                      st.sampled_from(["", "$"]), st.integers(1, 5000)).map(lambda p: f"{p[0]}{p[1]}{p[2]}{p[3]}")
_OPERAND = _REF_PART | st.sampled_from(['"A1"', '"$B$2 满意度"', "1.5", "TRUE"])
_EXPRESSION = st.recursive(
    _OPERAND,
    lambda inner: st.tuples(inner, st.sampled_from(["+", "*", "&", "="]), inner).map("".join)
    | st.tuples(st.sampled_from(["SUM", "IF", "LEN"]), st.lists(inner, min_size=1, max_size=3)).map(
        lambda call: f"{call[0]}({','.join(call[1])})"),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_EXPRESSION, st.integers(0, 2000), st.integers(0, 30))
def test_a_shared_formula_reads_as_a_spreadsheet_moves_it(expression: str, rows: int, cols: int) -> None:
    """A shared formula's other cells (``shift_references``), against openpyxl's own translator: relative
    references move by the cell's offset, absolute ones and text in quotes stay, down and across alike."""
    formula = "=" + expression
    expected = Translator(formula, origin="B2").translate_formula(row_delta=rows, col_delta=cols)
    assert shift_references(formula, rows, cols) == expected
