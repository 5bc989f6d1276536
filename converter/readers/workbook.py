"""Workbooks (xlsx, xlsm, xlsb, xls, ods) as grids, read with python-calamine; our template's names from the zip.

calamine reads all these formats, is an order of magnitude faster than openpyxl (see the pitfalls notes),
and gives merged ranges. It does not expose defined names, so for xlsx they are read from
``xl/workbook.xml`` directly (a small part, size-checked before it is inflated).
"""

from __future__ import annotations

import io
import re
import zipfile
from functools import lru_cache
from pathlib import Path

from python_calamine import CalamineWorkbook

from ..input_files import MAX_FILE_BYTES
from ..template_layout import LISTS_SHEET, META_SHEET, NAME_PREFIX, PROFILE_NAME, meta_profile
from .cell_kinds import CellKinds, SheetKinds, apply, member_bytes, open_kinds, xml_text
from .grid import CellRange, Grid, parse_ref

MAX_WORKBOOK_XML = 8 * 1024 * 1024


def _open(path: Path, data: bytes | None) -> CalamineWorkbook:
    """calamine's ``from_filelike`` tells the format by content (a .xlsx renamed .xls still opens); some files
    it cannot place that way (old BIFF, encrypted ones) open by extension, which also reports a password."""
    try:
        if data is not None:
            return CalamineWorkbook.from_filelike(io.BytesIO(data))
        with path.open("rb") as fh:
            return CalamineWorkbook.from_filelike(fh)
    except Exception as exc:
        if "detect" not in str(exc).lower():
            raise
    return CalamineWorkbook.from_path(str(path))


def workbook_grids(path: Path, profile: str | None = None, data: bytes | None = None,
                   infos: list[zipfile.ZipInfo] | None = None) -> tuple[list[Grid], str | None]:
    """One grid per worksheet except our own lists/meta sheets, and the profile our meta sheet names.

    Cells hold what the user typed as far as the file tells (see ``cell_kinds``): formula cells are
    ``Formula`` (text and cached value), numbers shown as percent are their percentage (``"95%"``), numbers
    shown as a date calamine does not know are dates. With ``profile`` already known (from the defined
    names) the meta sheet is not read at all. ``infos`` is the zip directory of ``data`` when the caller has
    read it (``reading`` has, to check the package's declared sizes)."""
    wb = _open(path, data)
    try:
        kinds = _kinds(path, data) if infos is None else _kinds(path, data, infos)
        grids = []
        for name in wb.sheet_names:
            if name == LISTS_SHEET or (name == META_SHEET and profile is not None):
                continue  # our drop-down lists and version sheet: nothing more to read
            sheet = wb.get_sheet_by_name(name)
            rows = [[None if v == "" else v for v in row] for row in sheet.to_python(skip_empty_area=True)]
            if name == META_SHEET:
                profile = meta_profile(rows)
                continue
            start = sheet.start or (0, 0)
            origin = (start[0], start[1])
            found = _sheet_kinds(kinds, name)
            if found is not None:
                rows, origin = apply(rows, origin, found, kinds is not None and kinds.date1904)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
            grids.append(Grid(sheet=name, rows=rows, origin=origin, merged=merged))
        return grids, profile
    finally:
        wb.close()


def _kinds(path: Path, data: bytes | None, infos: list[zipfile.ZipInfo] | None = None) -> CellKinds | None:
    """The workbook's side channel, or None. It may only add to calamine's read, never cost one: a file it
    cannot make sense of (calamine read it, so it is a workbook) keeps calamine's values."""
    try:
        if data is None:
            if path.stat().st_size > MAX_FILE_BYTES:  # read for the side channel when the caller gave no bytes
                return None
            data, infos = path.read_bytes(), None  # a directory given comes with the bytes it was read from
        return open_kinds(data, infos)
    except Exception:
        return None


def _sheet_kinds(kinds: CellKinds | None, name: str) -> SheetKinds | None:
    if kinds is None:
        return None
    try:
        return kinds.sheet(name)
    except Exception:  # as in _kinds: a damaged part keeps calamine's values
        return None


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"")
_PLAIN_SHEET_TAG = re.compile(rb"<sheet\b[^>]*?\bname=\"([^\"]*)\"")  # the same where no tag has a prefix
_NAME_TAG = re.compile(rb"<(?:\w+:)?definedName\b([^>]*)>([^<]*)</(?:\w+:)?definedName>")
_NAME_ATTR = re.compile(rb'\bname="([^"]*)"')
# Our names as Excel and openpyxl write them (name first, then the sheet's index; a reference with at most one
# "!"): a literal to look for, where ``_NAME_TAG`` is tried at every tag. Groups: the attributes, as ``_NAME_TAG``
# has them, the "!" ending a sheet part (or nothing: the sheet's name is not needed, and every copy of a template
# then gives the same groups), the rest.
_OUR_NAME_TAG = re.compile(rb'<definedName( name="' + re.escape(NAME_PREFIX.encode()) +
                           rb'[^"]*"(?: localSheetId="\d+")?)>(?:[^<!]*(!))?([^<!]*)</definedName>')
_LOCAL_ATTR = re.compile(rb'\blocalSheetId="(\d+)"')


MAX_REMEMBERED_KEY = 1024  # bytes of a name's attributes or reference whose reading is remembered
MAX_REMEMBERED_BOOK = 256 * 1024  # bytes of a workbook part whose names' reading is remembered as a whole


def _name_attrs(attrs: bytes) -> tuple[str, int | None]:
    """(name, localSheetId) of a ``definedName`` element. Every copy of our template spells these alike."""
    return _name_attrs_known(attrs) if len(attrs) <= MAX_REMEMBERED_KEY else _name_attrs_of(attrs)


def _name_attrs_of(attrs: bytes) -> tuple[str, int | None]:
    found = _NAME_ATTR.search(attrs)
    local = _LOCAL_ATTR.search(attrs)
    return (xml_text(found.group(1)) if found else ""), (int(local.group(1)) if local else None)


_name_attrs_known = lru_cache(maxsize=1024)(_name_attrs_of)


def _cells(ref: bytes) -> CellRange | None:
    """The cell part of a name's reference (``$B$4``, ``$A$18:$D$77``) as a 0-based inclusive range.

    Cached: every copy of our template names the same cells, while the sheet part before ``!`` differs from
    file to file and is not needed (a sheet-scoped name's sheet is its ``localSheetId``)."""
    return _cells_known(ref) if len(ref) <= MAX_REMEMBERED_KEY else _cells_of(ref)


def _cells_of(ref: bytes) -> CellRange | None:
    parsed = parse_ref(xml_text(ref))
    return parsed[1] if parsed is not None and parsed[0] is None else None


_cells_known = lru_cache(maxsize=1024)(_cells_of)


def _our_names(sheet_count: int, names: tuple[tuple[bytes, bytes, bytes], ...]
               ) -> tuple[dict[int, dict[str, CellRange]], str | None] | None:
    """``template_names``' loop over our names as ``_OUR_NAME_TAG`` finds them (attributes, ``b"!"`` when a sheet
    part precedes the cells, the cells), by sheet index; None when the profile's name has a sheet part, as its whole
    text is its value."""
    by_sheet: dict[int, dict[str, CellRange]] = {}
    profile = None
    for attrs_raw, has_sheet, cells_raw in names:
        name, index = _name_attrs(attrs_raw)
        if name == PROFILE_NAME:
            if has_sheet:
                return None
            profile = xml_text(cells_raw).strip().strip('"') or None
            continue
        if index is None or index >= sheet_count or not name.startswith(NAME_PREFIX):
            continue
        cells = _cells(cells_raw.rstrip() if has_sheet else cells_raw.strip())  # as the text stripped, after "!"
        if cells is not None:
            by_sheet.setdefault(index, {})[name] = cells
    return by_sheet, profile


_our_names_known = lru_cache(maxsize=256)(_our_names)  # for workbook parts up to ``MAX_REMEMBERED_BOOK``


def template_names(z: zipfile.ZipFile, package: bytes | None = None
                   ) -> tuple[dict[str, dict[str, CellRange]], str | None]:
    """Sheet name → our ``pg_`` names on that sheet (0-based inclusive ranges), and the profile the workbook
    name ``pg_profile`` records; empty and None for any other workbook.

    ``workbook.xml`` is a small, flat part; its ``sheet`` and ``definedName`` elements are picked out by
    pattern, which costs a tenth of a full parse and runs once per file in bulk conversion. ``package`` is the
    bytes ``z`` reads (when the caller has them): the part is then taken from them directly, as zipfile would
    read it, and the side channel finds it inflated already."""
    try:
        info = z.getinfo("xl/workbook.xml")
        if info.file_size > MAX_WORKBOOK_XML:
            return {}, None
        data = member_bytes(package, info) if package is not None else None
        if data is None:
            data = z.read(info)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return {}, None
    if NAME_PREFIX.encode() not in data or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return {}, None  # not our template; or a DTD, which no OOXML part declares and a hostile one does
    sheet_tag = _SHEET_TAG if b":sheet" in data else _PLAIN_SHEET_TAG
    sheets = [xml_text(m) for m in sheet_tag.findall(data)]
    prefix = b'"' + NAME_PREFIX.encode()
    # When every '"pg_' in the part stands in one of our names as we write them, those are all the elements whose
    # attributes hold our prefix, in order, as the general pattern finds them (it then only skips the others);
    # what they say but for the sheets' names is the same in every copy of a template, and is remembered.
    ours = _OUR_NAME_TAG.findall(data)
    if len(ours) == data.count(prefix) and len(set(sheets)) == len(sheets):
        found = (_our_names_known if len(data) <= MAX_REMEMBERED_BOOK else _our_names)(len(sheets), tuple(ours))
        if found is not None:
            return {sheets[index]: dict(names) for index, names in found[0].items()}, found[1]
    out: dict[str, dict[str, CellRange]] = {}
    profile = None
    for attrs_raw, text_raw in _NAME_TAG.findall(data):
        if prefix not in attrs_raw:
            continue
        name, index = _name_attrs(attrs_raw)
        if name == PROFILE_NAME:
            profile = xml_text(text_raw).strip().strip('"') or None
            continue
        if index is None or index >= len(sheets) or not name.startswith(NAME_PREFIX):
            continue  # our field names are sheet-scoped; workbook-level ones name the drop-down lists
        cells = _cells(text_raw.strip().rpartition(b"!")[2])  # a sheet name may hold "!", a cell reference not
        if cells is not None:
            out.setdefault(sheets[index], {})[name] = cells
    return out, profile
