"""What calamine does not tell about a cell: its formula, and whether its number is shown as a percent or a date.

python-calamine gives values and merged ranges only. A target typed ``=100%`` is a formula in the file (its
cached value is ``1``, or nothing when no application has computed it); ``95%`` typed into a cell is the
number 0.95 with a percent format. To read these as typed, this side channel reads the parts calamine reads
without telling: formula text and number formats of xlsx/xlsm (sheet XML and ``styles.xml``), ods
(``content.xml``) and xls (FORMULA, XF and FORMAT records of the Workbook stream; the file keeps formulas as
tokens only, so no text). xlsb is not covered (calamine's values are used as they are).

Cost matters (bulk conversion reads about a thousand files a second): xlsx parts are scanned with patterns
over the bytes, never parsed, and a sheet is only scanned for styles when ``styles.xml`` has a percent (or
calamine-unknown date) format. No part larger than ``MAX_PART_BYTES`` is inflated and no part with a DTD is
read (hostile files declare entities). Whatever goes wrong here, the caller keeps calamine's values: the side
channel may only add to a read, never cost one.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from .grid import ErrorValue, Formula, parse_cell, shift_references
from .values import percent_text

Pos = tuple[int, int]  # 0-based (row, col) on the sheet

MAX_PART_BYTES = 32 * 1024 * 1024  # inflated size of one part read here; larger parts keep calamine's values
MAX_GROWTH_CELLS = 1_000_000  # a grid is extended to an uncomputed formula only within this many cells
MAX_REPEAT = 1024  # an ods cell or row repeated more often than this is not expanded here
MAX_CELL_TAG = 96  # bytes of a cell start tag placed by ``_formulas_plain``, and looked back over in ``_formulas``
MAX_REMEMBERED_FORMULA = 16 * 1024  # bytes of a formula element (or text) whose reading is remembered
MAX_REMEMBERED_ATTRS = 1024  # bytes of a sheet element's attributes whose reading is remembered
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


@dataclass
class SheetKinds:
    """One sheet's formula cells (text or None) and the cells whose numbers are shown as percent or as date."""

    formulas: dict[Pos, str | None] = field(default_factory=dict)
    percent: set[Pos] = field(default_factory=set)
    dates: set[Pos] = field(default_factory=set)
    errors: dict[Pos, str] = field(default_factory=dict)  # cells holding an error value (#N/A), which calamine
    # reads as blank

    def __bool__(self) -> bool:
        return bool(self.formulas or self.percent or self.dates or self.errors)


# ---------------------------------------------------------------------------------------------------------------
# Number formats


_FMT_LITERAL = re.compile(r'"[^"]*"?|\\.|[_*].|\[[^\]]*\]?')
_FMT_NOT_DATE = re.compile(r"general|e[+-]", re.IGNORECASE)
_BUILTIN_PERCENT = {9, 10}


@lru_cache(maxsize=256)
def format_kind(code: str) -> str | None:
    """``"percent"`` for a number format that shows its number as a percentage (an unquoted ``%`` in the
    first section), ``"date"`` for a date format calamine does not recognise (weekday ``aaaa``, era ``ge``:
    calamine turns every format with d, m, y, h or s into dates itself), else None."""
    first = _FMT_LITERAL.sub("", code).split(";", 1)[0]
    if "%" in first:
        return "percent"
    plain = _FMT_NOT_DATE.sub("", first).lower()
    if re.search(r"[dmyhs]", plain) is None and re.search(r"[eg]|aaa", plain):
        return "date"
    return None


def _number_kind(fmt_id: int, custom: dict[int, str]) -> str | None:
    if fmt_id in custom:
        return format_kind(custom[fmt_id])
    return "percent" if fmt_id in _BUILTIN_PERCENT else None


# ---------------------------------------------------------------------------------------------------------------
# Applying what was found to calamine's rows


def _serial_date(value: float, date1904: bool) -> Any:
    """A serial day number as the date (or date and time) it shows; the number itself when out of range."""
    if not (0 if date1904 else 61) <= value < 2_958_466:
        return value  # before 1900-03-01 Excel counts a 29 February that never was: not a date to trust
    moment = (_EPOCH_1904 if date1904 else _EXCEL_EPOCH) + dt.timedelta(days=value)
    moment = moment.replace(microsecond=0) if moment.microsecond < 500_000 else \
        (moment + dt.timedelta(seconds=1)).replace(microsecond=0)
    return moment.date() if moment.time() == dt.time() else moment


_NUMBERS = (int, float)  # as calamine gives numbers; bool is not one of them


def _shown(value: Any, pos: Pos, kinds: SheetKinds, date1904: bool) -> Any:
    """A number as its format shows it: ``95%`` for 0.95 under a percent format, a date under a date format."""
    if pos in kinds.percent:
        return percent_text(float(value))
    if pos in kinds.dates:
        return _serial_date(float(value), date1904)
    return value


def apply(rows: list[list[Any]], origin: tuple[int, int], kinds: SheetKinds, date1904: bool = False
          ) -> tuple[list[list[Any]], tuple[int, int]]:
    """calamine's rows with formula cells as ``Formula`` and formatted numbers as shown; the grid grows (and
    its origin moves) to take in formulas no application has computed yet, which calamine leaves out.

    A formula's cached number is shown as its format shows it too: an xls ``=100%`` (no formula text there)
    is then read as ``100%``, not ``1``."""
    width = max(map(len, rows), default=0)
    if kinds.formulas:
        rows, origin, width = _extend(rows, origin, width, kinds.formulas)
    r0, c0 = origin
    height = len(rows)
    formulas = kinds.formulas
    for pos in kinds.percent | kinds.dates:
        r, c = pos[0] - r0, pos[1] - c0
        if 0 <= r < height and 0 <= c < len(rows[r]) and pos not in formulas \
                and rows[r][c].__class__ in _NUMBERS:
            rows[r][c] = _shown(rows[r][c], pos, kinds, date1904)
    formatted = bool(kinds.percent or kinds.dates)
    errors = kinds.errors
    for pos, code in errors.items():
        r, c = pos[0] - r0, pos[1] - c0
        if 0 <= r < height and 0 <= c < len(rows[r]) and pos not in formulas:
            rows[r][c] = ErrorValue(code)
    for pos, text in formulas.items():
        r = pos[0] - r0
        if 0 <= r < height:
            row = rows[r]
            c = pos[1] - c0
            if 0 <= c < len(row):
                value = row[c]
                if value is None and not errors and (text is None or len(text) <= MAX_REMEMBERED_FORMULA):
                    row[c] = _uncomputed(text)
                    continue
                if formatted and value.__class__ in _NUMBERS:
                    value = _shown(value, pos, kinds, date1904)
                if pos in errors:
                    value = ErrorValue(errors[pos])
                row[c] = Formula(text, value)
    return rows, origin


@lru_cache(maxsize=4096)
def _uncomputed(text: str | None) -> Formula:
    """A formula without a cached value, one object per text (``Formula`` is frozen): in every copy of our
    template written by openpyxl or by this tool, its checks are such formulas."""
    return Formula(text, None)


def _extend(rows: list[list[Any]], origin: tuple[int, int], width: int, cells: dict[Pos, str | None]
            ) -> tuple[list[list[Any]], tuple[int, int], int]:
    top, left = origin
    bottom, right = (top + len(rows), left + width) if rows and width else (None, None)
    need = [p for p in cells if bottom is None or right is None or not (top <= p[0] < bottom and left <= p[1] < right)]
    if not need:
        return rows, origin, width
    new_top = min([p[0] for p in need] + ([top] if bottom is not None else []))
    new_left = min([p[1] for p in need] + ([left] if right is not None else []))
    new_bottom = max([p[0] + 1 for p in need] + ([bottom] if bottom is not None else []))
    new_right = max([p[1] + 1 for p in need] + ([right] if right is not None else []))
    if (new_bottom - new_top) * (new_right - new_left) > len(rows) * width + MAX_GROWTH_CELLS:
        return rows, origin, width  # a formula far away: not worth a grid of millions of empty cells
    new_width = new_right - new_left
    grown: list[list[Any]] = [[None] * new_width for _ in range(new_bottom - new_top)]
    for r, row in enumerate(rows):
        target = grown[r + top - new_top]
        target[left - new_left:left - new_left + len(row)] = row
    return grown, (new_top, new_left), new_width


# ---------------------------------------------------------------------------------------------------------------
# The side channel of one workbook


class CellKinds:
    """The side channel of one workbook: ``sheet(name)`` gives what was found on that sheet (None: nothing)."""

    date1904 = False

    def sheet(self, name: str) -> SheetKinds | None:
        raise NotImplementedError


def open_kinds(data: bytes, infos: list[zipfile.ZipInfo] | None = None) -> CellKinds | None:
    """The side channel for a workbook's bytes, or None when its format has none here (xlsb, text).

    ``infos`` is the package's directory when the caller has read it already (``reading._sniff`` does, to check
    the declared sizes): a zip's directory is then read once per file."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        package = _Package(data, infos)
        if "xl/workbook.xml" in package.members:
            return _XlsxKinds(package)
        if "content.xml" in package.members:
            return _OdsKinds(package)
        return None
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _XlsKinds(data)
    return None


_PROLOG = re.compile(rb"(?:\xef\xbb\xbf|\s|<\?.*?\?>|<!--.*?-->)*", re.S)
_ROOT = re.compile(rb"<([\w.-]+:)?[A-Za-z_]")
_LOCAL_HEADER = struct.Struct("<4s22xHH")


class _Package:
    """A zip package: its directory read by zipfile, its few members inflated here straight from the bytes
    (zipfile's per-member objects cost more than inflating a small part; calamine has checked the CRCs)."""

    def __init__(self, data: bytes, infos: list[zipfile.ZipInfo] | None = None) -> None:
        self.data = data
        if infos is None:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                infos = z.infolist()
        self.members = {info.filename.replace("\\", "/").lower(): info for info in infos}

    def read(self, name: str, remember: bool = False) -> bytes | None:
        """A member's bytes, None when missing, encrypted, compressed otherwise than deflate or stored, or
        declared or found larger than ``MAX_PART_BYTES``. ``remember``: the part was probably just read by
        ``member_bytes`` (see ``_inflated_remembered``)."""
        stored = self.stored(name)
        if stored is None:
            return None
        return _inflated_remembered(stored) if remember else _inflated(*stored)

    def stored(self, name: str) -> tuple[int, bytes] | None:
        """A member's compression method and its bytes as stored — all its bytes depend on — or None when it is
        missing, encrypted, declared larger than ``MAX_PART_BYTES`` or has no local header."""
        info = self.members.get(name)
        return None if info is None else _stored(self.data, info)


def _stored(data: bytes, info: zipfile.ZipInfo) -> tuple[int, bytes] | None:
    if info.file_size > MAX_PART_BYTES or info.flag_bits & 1:
        return None
    at = info.header_offset
    if at + 30 > len(data):
        return None
    magic, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, at)
    if magic != b"PK\x03\x04":
        return None
    start = at + 30 + name_len + extra_len
    return info.compress_type, data[start:start + info.compress_size]


def _inflated(method: int, raw: bytes) -> bytes | None:
    if method == zipfile.ZIP_STORED:
        out = raw
    elif method == zipfile.ZIP_DEFLATED:
        out = zlib.decompressobj(-15).decompress(raw, MAX_PART_BYTES + 1)
    else:
        return None
    return out if len(out) <= MAX_PART_BYTES else None


MAX_REMEMBERED_PART = 64 * 1024  # stored bytes of a part whose reading is remembered (styles, relationships)
MAX_REMEMBERED_INFLATED = 1 << 20  # inflated bytes of the one small part remembered by ``_inflated_remembered``
_LAST_PART: list[tuple[tuple[int, bytes], bytes | None]] = []  # at most one (stored, inflated)


def _inflated_remembered(stored: tuple[int, bytes]) -> bytes | None:
    """``_inflated(*stored)``, the last small part's remembered: ``xl/workbook.xml`` is read by
    ``template_names`` while the format is told, and right after by the side channel. One slot, compared by
    its stored bytes (no hash: parts read once compare unequal by length, or within their first bytes)."""
    last = _LAST_PART[0] if _LAST_PART else None  # one read of the slot: another thread may replace it
    if last is not None and last[0] == stored:
        return last[1]
    out = _inflated(*stored)
    if len(stored[1]) <= MAX_REMEMBERED_PART and (out is None or len(out) <= MAX_REMEMBERED_INFLATED):
        _LAST_PART[:] = [(stored, out)]
    return out


_FLAGS_ZIPFILE_REFUSES = 0x1 | 0x20 | 0x40  # encrypted, compressed patch data, strong encryption


def member_bytes(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A member's bytes exactly as ``ZipFile.read`` gives them, taken straight from the package's bytes (a
    fraction of zipfile's cost for a small part, and remembered for the side channel); None whenever zipfile
    might answer otherwise — an unusual name, flag or method, a size or checksum that does not match — for
    the caller to ask zipfile, which then raises or reads as it always has."""
    if info.flag_bits & _FLAGS_ZIPFILE_REFUSES or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
            or not info.orig_filename.isascii() or info.header_offset < 0:
        return None
    stored = _stored(data, info)
    if stored is None or len(stored[1]) != info.compress_size:
        return None  # a package cut short
    at = info.header_offset + 30
    if data[at:at + len(info.orig_filename)] != info.orig_filename.encode() or \
            _LOCAL_HEADER.unpack_from(data, info.header_offset)[1] != len(info.orig_filename):
        return None  # the local header names another member: zipfile refuses it
    if stored[0] == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        return None
    out = _inflated_remembered(stored)
    if out is None or len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        return None
    return out


_T = TypeVar("_T")


def _parsed(package: _Package, name: str, parse: Callable[[bytes, bytes], _T]) -> _T:
    """``parse(*_part(package, name))``, or of empty bytes for a part that cannot be read, remembered by the
    part's stored bytes: every copy of one template stores the same styles and relationships, which need then
    be neither inflated nor hashed again."""
    stored = package.stored(name)
    if stored is None or len(stored[1]) > MAX_REMEMBERED_PART:
        return parse(*(_part(package, name) or (b"", b"")))
    return _parsed_stored(stored, parse)  # type: ignore[no-any-return]


@lru_cache(maxsize=64)
def _parsed_stored(stored: tuple[int, bytes], parse: Callable[[bytes, bytes], Any]) -> Any:
    data = _inflated(*stored)
    return parse(*((_with_root(data) if data is not None else None) or (b"", b"")))


def _part(package: _Package, name: str, remember: bool = False) -> tuple[bytes, bytes] | None:
    """A package part and the namespace prefix of its root element (``b""`` or ``b"x:"``); None for a part
    that is missing, too large, has a DTD (which comes before the root, after the declaration and comments)
    or has no root element."""
    data = package.read(name, remember)
    return None if data is None else _with_root(data)


def _with_root(data: bytes) -> tuple[bytes, bytes] | None:
    prolog = _PROLOG.match(data)
    root = _ROOT.match(data, prolog.end() if prolog else 0)
    return (data, root.group(1) or b"") if root is not None else None


def xml_text(raw: bytes) -> str:
    """Text of an XML attribute or element as bytes, with its character references resolved."""
    text = raw.decode("utf-8", "replace")
    if "&" not in text:
        return text
    return re.sub(r"&(?:#(\d+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot|apos));", _entity, text)


_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m: re.Match[str]) -> str:
    if m.group(3):
        return _ENTITIES[m.group(3)]
    code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
    return chr(code) if 0 < code < 0x110000 else "\ufffd"


def _positions(data: bytes, literal: bytes, limit: int = MAX_GROWTH_CELLS) -> list[int]:
    """Where a literal occurs, at most ``limit`` times (``bytes.find`` outruns a pattern on literals)."""
    out: list[int] = []
    at = data.find(literal)
    while at >= 0 and len(out) < limit:
        out.append(at)
        at = data.find(literal, at + 1)
    return out


# ---------------------------------------------------------------------------------------------------------------
# xlsx / xlsm: patterns over the bytes of each part, with the prefix its root element uses (Excel, LibreOffice
# and openpyxl write none; some generators write ``x:``). Formula elements are rare and cell start tags are
# many, so the scan looks for ``<f`` and steps back to the cell's start tag: ``f`` is a cell's first child.


def _attr(name: str) -> re.Pattern[bytes]:
    """An attribute in either quote style; its value is group 1 or 2 (see ``_value``)."""
    return re.compile(rf"""\s{name}=(?:"([^"]*)"|'([^']*)')""".encode())


_SHEET_NAME, _SHEET_RID, _C_REF = _attr("name"), _attr(r"[\w.-]+:id"), _attr("r")
_REL_ID, _REL_TARGET, _REL_TYPE = _attr("Id"), _attr("Target"), _attr("Type")
_FMT_ID, _FMT_CODE = _attr("numFmtId"), _attr("formatCode")
_DATE1904 = re.compile(rb"""\sdate1904=["'](?:1|true)["']""")
_XLFN = re.compile(r"_xl(?:fn|ws|udf)\.")


@lru_cache(maxsize=64)
def _element(prefix: bytes, name: bytes, body: bytes = rb"\s([^<>]*)>") -> re.Pattern[bytes]:
    """Start tags of one element with the part's prefix, its attributes as group 1."""
    return re.compile(b"<" + re.escape(prefix + name) + body)


@lru_cache(maxsize=4096)
def _cell_pos(ref: bytes) -> Pos | None:
    return parse_cell(ref.decode("ascii", "replace"))


class _XlsxKinds(CellKinds):
    def __init__(self, package: _Package) -> None:
        self._package = package
        book, book_ns = _part(package, "xl/workbook.xml", remember=True) or (b"", b"")
        self.date1904 = b"date1904" in book and _DATE1904.search(book) is not None
        targets, styles_path = _parsed(package, "xl/_rels/workbook.xml.rels", _relationships)
        self._paths = {name: targets[rid] for name, rid in _sheet_ids(book, book_ns) if rid in targets}
        self._styles = _parsed(package, styles_path, _style_kinds)

    def sheet(self, name: str) -> SheetKinds | None:
        found = _part(self._package, self._paths.get(name, ""))
        if found is None:
            return None
        xml, ns = found
        kinds = SheetKinds()
        if not (_formulas(xml, ns, kinds) and _styled(xml, ns, self._styles, kinds)):
            return _sheet_by_parse(xml, self._styles)  # a cell without its reference, or odd markup
        if b"#" in xml and b't="e"' in xml:  # an error value starts with "#" (calamine refuses a file with any
            _errors(xml, ns, kinds)  # other), as itself or in a character reference (&#35;): one fast search
        return kinds or None


def _errors(xml: bytes, ns: bytes, kinds: SheetKinds) -> None:
    """Cells holding an error value: ``<c r="D19" t="e"><v>#N/A</v></c>``, with or without a formula."""
    pattern = _error_cell(ns)
    for m in pattern.finditer(xml):
        pos = _cell_pos(m.group(1))
        if pos is not None:
            kinds.errors[pos] = xml_text(m.group(2))


@lru_cache(maxsize=8)
def _error_cell(ns: bytes) -> re.Pattern[bytes]:
    c, f, v = (re.escape(ns + name) for name in (b"c", b"f", b"v"))
    return re.compile(rb'<' + c + rb'\s[^>]*?\br="([A-Z]{1,3}\d+)"[^>]*?\bt="e"[^>]*>(?:<' + f +
                      rb'\b[^>]*?(?:/>|>[^<]*</' + f + rb'>))?<' + v + rb'>([^<]{1,16})</' + v + rb'>')


@lru_cache(maxsize=64)
def _relationships(rels: bytes, ns: bytes) -> tuple[dict[str, str], str]:
    """The workbook's relationship ids → part paths (lower case, as members are looked up), and the styles
    part. Cached: every copy of one template has the same relationships."""
    targets: dict[str, str] = {}
    styles_path = "xl/styles.xml"
    for m in _element(ns, b"Relationship").finditer(rels):
        rid, target, kind = (_first(p, m.group(1)) for p in (_REL_ID, _REL_TARGET, _REL_TYPE))
        if rid is None or target is None:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        targets[rid] = path.lower()
        if kind is not None and kind.endswith("/styles"):
            styles_path = path.lower()
    return targets, styles_path


def _sheet_ids(book: bytes, ns: bytes) -> list[tuple[str, str]]:
    """(sheet name, relationship id) of each sheet the workbook lists."""
    out = []
    for attrs in _element(ns, b"sheet").findall(book):
        name, rid = _sheet_attrs_known(attrs) if len(attrs) <= MAX_REMEMBERED_ATTRS else _sheet_attrs(attrs)
        if name is not None and rid is not None:
            out.append((name, rid))
    return out


def _sheet_attrs(attrs: bytes) -> tuple[str | None, str | None]:
    """A sheet element's name and relationship id."""
    return _first(_SHEET_NAME, attrs), _first(_SHEET_RID, attrs)


# Our lists and version sheets are spelled alike in every copy of a template (its form sheet is named after
# the project).
_sheet_attrs_known = lru_cache(maxsize=1024)(_sheet_attrs)


def _value(m: re.Match[bytes]) -> bytes:
    found = m.group(1)
    return found if found is not None else m.group(2)


def _first(pattern: re.Pattern[bytes], attrs: bytes) -> str | None:
    m = pattern.search(b" " + attrs)
    return xml_text(_value(m)) if m else None


def _cell_at(xml: bytes, at: int, tag: bytes) -> Pos | None:
    """The cell whose start tag holds position ``at`` (or ends right before it), when it names its reference."""
    start = xml.rfind(b"<", max(0, at - 2048), at)
    if start < 0 or not xml.startswith(tag, start) or not xml[start + len(tag):start + len(tag) + 1].isspace():
        return None
    ref = _C_REF.search(xml, start, at)
    return _cell_pos(_value(ref)) if ref else None


def _formula_text_of(raw: bytes) -> str | None:
    """``IFERROR(A1,&quot;x&quot;)`` → ``=IFERROR(A1,"x")``; Excel's storage prefixes (``_xlfn.``) removed."""
    raw = raw.strip()
    return "=" + _XLFN.sub("", xml_text(raw)) if raw else None


_formula_text = lru_cache(maxsize=4096)(_formula_text_of)  # a template's formulas repeat from file to file


_SI = _attr("si")


@lru_cache(maxsize=64)
def _formula_element(ns: bytes) -> re.Pattern[bytes]:
    """Formula start tags (attributes, a closing ``/``) and the text after them. The attributes are taken
    possessively up to the tag's ``>`` (a lazy match costs a step per character, and bulk conversion scans
    every sheet); ``_formula_parts`` takes a trailing ``/`` off them as the end of an empty element."""
    return re.compile(b"<" + re.escape(ns + b"f") + rb"(?:\s([^<>]*+))?(/?)>([^<]*+)")


def _shared_index(attrs: bytes) -> bytes | None:
    """The ``si`` of a shared formula's attributes (``t="shared" si="0"``), else None. Cached (for attributes of
    an ordinary length): a shared formula's cells all spell their attributes alike."""
    return _shared_index_known(attrs) if len(attrs) <= MAX_CELL_TAG else _shared_index_of(attrs)


def _shared_index_of(attrs: bytes) -> bytes | None:
    if b"shared" not in attrs:
        return None
    si = _SI.search(b" " + attrs)
    return _value(si) if si is not None else None


_shared_index_known = lru_cache(maxsize=256)(_shared_index_of)


def _formulas(xml: bytes, ns: bytes, kinds: SheetKinds) -> bool:
    """Formula cells: ``<c r="E2"><f>IFERROR(…)</f>`` → E2: ``=IFERROR(…)``. A shared formula's other cells
    (``<f t="shared" si="0"/>``) have no text of their own: they read as the first cell's, its relative
    references moved to them. False when a formula's cell cannot be placed this way.

    Sheets as Excel, LibreOffice and openpyxl write them take ``_formulas_plain``; the first formula it cannot
    place sends the whole sheet to ``_formulas_placed``, which reads the same cells the general way."""
    placed = _formulas_plain(xml, ns)
    if placed is None:
        return _formulas_placed(xml, ns, kinds)
    _record(kinds.formulas, placed)
    return True


@lru_cache(maxsize=64)
def _plain_formula_element(ns: bytes) -> re.Pattern[bytes]:
    """``_formula_element`` found from its ``f`` (with the ``<`` behind it): the engine then looks for a
    letter a sheet holds ten times fewer of than ``<``. Groups as ``_formula_element``'s."""
    f = re.escape(ns + b"f")
    return re.compile(f + b"(?<=<" + f + rb")(?:\s([^<>]*+))?(/?)>([^<]*+)")


@lru_cache(maxsize=4096)
def _tag_cell(tag: bytes, fast: bytes) -> Pos | None:
    """The cell of a start tag written as Excel, LibreOffice and openpyxl write it (``<c r="E2" s="6">``, its
    reference first), else None."""
    if len(tag) > MAX_CELL_TAG or not tag.startswith(fast):
        return None
    end = tag.find(b'"', len(fast))
    return _cell_pos(tag[len(fast):end]) if end >= 0 else None


def _formula_parts(groups: tuple[Any, ...]) -> tuple[str | None, bytes | None]:
    """A formula element's text (None for an empty element) and its shared index (None unless shared), from
    ``_formula_element``'s groups (attributes or None, a closing ``/`` or nothing, the text)."""
    attrs, closed, raw = groups
    if attrs is not None and attrs.endswith(b"/"):
        attrs, closed = attrs[:-1], b"/"
    text = None if closed else \
        _formula_text(raw) if len(raw) <= MAX_REMEMBERED_FORMULA else _formula_text_of(raw)
    return text, (_shared_index(attrs) if attrs else None)


_Placed = tuple[Pos, str | None, bytes | None]  # a formula's cell, its text and its shared index


def _plain_cell_of(element: bytes, ns: bytes) -> _Placed | None:
    """A formula element with its cell's start tag right before it (``<c r="E2" s="6"><f>SUM(A1:A3)``): the
    cell, the formula's text and its shared index, as ``_formulas_placed`` reads them; None when the tag is
    not as ``_tag_cell`` reads it."""
    at = element.find(b"<", 1)
    cell = _tag_cell(element[:at], b"<" + ns + b'c r="') if at > 0 else None
    m = _formula_element(ns).match(element, at) if cell is not None else None
    return None if cell is None or m is None else (cell, *_formula_parts(m.groups()))


_plain_cell = lru_cache(maxsize=1024)(_plain_cell_of)  # a template's formula cells are the same in every copy


def _formulas_plain(xml: bytes, ns: bytes) -> list[_Placed] | None:
    """The formulas placed (for ``_record``) where every formula's cell tag is right before it and names its
    reference first (as ``_tag_cell`` reads it); None at the first one that is not. Per formula: a look back to
    the ``<`` before it and one cached look-up of the tag and the formula's bytes, no search for the cell's tag."""
    placed: list[_Placed] = []
    rfind = xml.rfind
    for m in _plain_formula_element(ns).finditer(xml):
        at = m.start() - 1  # the "<" of "<f"
        start = rfind(b"<", at - MAX_CELL_TAG if at > MAX_CELL_TAG else 0, at)
        end = m.end()
        if start < 0:
            return None
        found = _plain_cell(xml[start:end], ns) if end - start <= MAX_REMEMBERED_FORMULA else \
            _plain_cell_of(xml[start:end], ns)
        if found is None:
            return None
        placed.append(found)
    return placed


def _record(formulas: dict[Pos, str | None], placed: list[_Placed]) -> None:
    """The formulas placed, in the sheet's order, into ``formulas``; a shared formula's other cells read as its
    first cell's formula moved to them (None without one)."""
    masters: dict[bytes, tuple[str, Pos]] = {}
    waiting: list[tuple[Pos, bytes]] = []
    for cell, text, si in placed:
        formulas[cell] = text
        if si is not None:
            if text is None:
                waiting.append((cell, si))
            else:
                masters[si] = (text, cell)
    for cell, key in waiting:
        master = masters.get(key)
        formulas[cell] = None if master is None else \
            shift_references(master[0], cell[0] - master[1][0], cell[1] - master[1][1])


def _formulas_placed(xml: bytes, ns: bytes, kinds: SheetKinds) -> bool:
    """``_formulas`` for any sheet: the cell's start tag is the tag right before ``<f``; as written by Excel,
    LibreOffice and openpyxl it begins ``<c r="``, which is looked for first (one search), the general case
    second."""
    tag = b"<" + ns + b"c"
    fast = tag + b' r="'
    skip = len(fast)
    placed: list[_Placed] = []
    rfind, find = xml.rfind, xml.find
    for m in _formula_element(ns).finditer(xml):
        at = m.start()
        start = rfind(fast, at - MAX_CELL_TAG if at > MAX_CELL_TAG else 0, at)
        cell = None
        if start >= 0 and find(b"<", start + 1, at) < 0:
            cell = _cell_pos(xml[start + skip:find(b'"', start + skip, at)])
        if cell is None:
            cell = _cell_at(xml, at, tag)
            if cell is None:
                return False
        placed.append((cell, *_formula_parts(m.groups())))
    _record(kinds.formulas, placed)
    return True


def _styled(xml: bytes, ns: bytes, styles: dict[int, str], kinds: SheetKinds) -> bool:
    """Cells whose style shows numbers as percent (or as a date calamine does not know), found by their style
    attribute as Excel, LibreOffice and openpyxl write it (`` s="9"``: a literal, searched fast). Rows and
    columns have styles too: only cell tags count. False when such a cell names no reference."""
    tag = b"<" + ns + b"c"
    for style, kind in styles.items():
        found = kinds.percent if kind == "percent" else kinds.dates
        for at in _positions(xml, b' s="%d"' % style) + _positions(xml, b" s='%d'" % style):
            start = xml.rfind(b"<", max(0, at - 256), at)
            if start < 0 or not xml.startswith(tag, start) or not xml[start + len(tag):start + len(tag) + 1].isspace():
                continue  # a row's or column's style, or text
            cell = _cell_at(xml, at, tag)
            if cell is None:
                return False
            found.add(cell)
    return True


@lru_cache(maxsize=64)
def _style_kinds(styles: bytes, ns: bytes) -> dict[int, str]:
    """Cell style index → ``percent`` or ``date`` for the styles whose number format needs the side channel.
    Cached: every copy of one template has the same styles. (The caller must not change the result.)"""
    kinds: dict[int, str] = {fid: "percent" for fid in _BUILTIN_PERCENT}
    for m in _element(ns, b"numFmt").finditer(styles):
        fid, code = _first(_FMT_ID, m.group(1)), _first(_FMT_CODE, m.group(1))
        if fid is not None and fid.isdigit() and code is not None:
            kind = format_kind(code)
            if kind is None:
                kinds.pop(int(fid), None)  # a built-in id given another format
            else:
                kinds[int(fid)] = kind
    start = styles.find(b"<" + ns + b"cellXfs")
    end = styles.find(b"</" + ns + b"cellXfs>", start)
    if start < 0 or end < 0:
        return {}
    ids = _element(ns, b"xf", rb"""(?=[\s/>])(?:[^<>]*?\snumFmtId=["'](\d+))?""").findall(styles, start, end)
    # Style 0 is every unstyled cell's; a workbook whose default shows percent is not followed.
    return {index: kinds[int(fid)] for index, fid in enumerate(ids) if index and fid and int(fid) in kinds}


def _sheet_by_parse(xml: bytes, styles: dict[int, str]) -> SheetKinds | None:
    """The slow way, for sheets whose cells do not all name their reference (allowed; rare): a real parse that
    counts rows and cells as calamine does."""
    from lxml import etree

    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        return None  # _part refuses a DTD before the root; none may hide later either
    kinds = SheetKinds()
    row, col = -1, -1
    cell: Pos | None = None
    parser = etree.iterparse(io.BytesIO(xml), events=("start", "end"), resolve_entities=False, no_network=True,
                             load_dtd=False)
    for event, el in parser:
        tag = el.tag.rpartition("}")[2] if isinstance(el.tag, str) else ""
        if event == "start":
            if tag == "row":
                found = el.get("r")
                row = int(found) - 1 if found and found.isdigit() else row + 1
                col = -1
            elif tag == "c":
                found = parse_cell(el.get("r") or "")
                cell = found if found is not None else (row, col + 1)
                row, col = cell
                style = el.get("s")
                kind = styles.get(int(style)) if style and style.isdigit() else None
                if kind is not None:
                    (kinds.percent if kind == "percent" else kinds.dates).add(cell)
        elif tag == "f" and cell is not None:
            kinds.formulas[cell] = "=" + _XLFN.sub("", el.text.strip()) if el.text and el.text.strip() else None
        elif tag == "row":
            el.clear()
    return kinds or None


# ---------------------------------------------------------------------------------------------------------------
# ods

_TABLE_NS = b"urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE_NS = b"urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_OF_REF = re.compile(r"\[\.(\$?[A-Z]{1,3}\$?\d+)(?::\.(\$?[A-Z]{1,3}\$?\d+))?\]")
_OF_TOKENS = re.compile(r'"[^"]*"?|;|[^";]+')


@lru_cache(maxsize=4096)
def _ods_formula(raw: bytes) -> str:
    """A ``table:formula`` attribute as Excel would write the formula. Cached: a template's formulas repeat."""
    return openformula_text(xml_text(raw))


def openformula_text(formula: str) -> str:
    """An ods formula as Excel writes it where that is simple: ``of:=SUM([.A1:.B2];[.C3])`` → ``=SUM(A1:B2,C3)``;
    references to other sheets keep their OpenFormula spelling."""
    text = formula.split(":", 1)[1] if re.match(r"^[a-z]+:=", formula) else formula
    text = _OF_REF.sub(lambda m: m.group(1) + (":" + m.group(2) if m.group(2) else ""), text)
    if ";" in text:
        text = "".join("," if t == ";" else t for t in _OF_TOKENS.findall(text))
    return text


def _repeat(value: bytes | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 1 << 31 else 1


class _OdsKinds(CellKinds):
    """All tables are in one part, scanned once, and only when it holds a formula or a percentage."""

    def __init__(self, package: _Package) -> None:
        self._package = package
        self._sheets: dict[str, SheetKinds] | None = None

    def sheet(self, name: str) -> SheetKinds | None:
        if self._sheets is None:
            found = _part(self._package, "content.xml")
            xml = found[0] if found else b""
            self._sheets = _ods_sheets(xml) if b"formula=" in xml or b"percentage" in xml else {}
        return self._sheets.get(name)


@lru_cache(maxsize=16)
def _ods_patterns(table: bytes, office: bytes) -> tuple[re.Pattern[bytes], ...]:
    """Patterns for the prefixes a document gives the table and office namespaces (``table:``, ``office:``)."""
    t, o = re.escape(table), re.escape(office)
    return (
        re.compile(b"<" + t + rb"(table|table-row)(?=[\s/>])([^<>]*)>"),  # tables and rows, in order
        re.compile(b"<" + t + rb"(?:covered-)?table-cell(?=[\s/>])([^<>]*)>"),  # cells of a row
        re.compile(rb"\s" + t + rb"""name=(?:"([^"]*)"|'([^']*)')"""),
        re.compile(rb"\s" + t + rb"""formula=(?:"([^"]*)"|'([^']*)')"""),
        re.compile(rb"\s" + t + rb"""number-rows-repeated=["'](\d+)"""),
        re.compile(rb"\s" + t + rb"""number-columns-repeated=["'](\d+)"""),
        re.compile(rb"\s" + o + rb"""value-type=["']percentage["']"""),
    )


def _prefix_of(xml: bytes, namespace: bytes, default: bytes) -> bytes:
    m = re.search(rb"""xmlns:([\w.-]+)=["']""" + re.escape(namespace) + rb"""["']""", xml[:1 << 16])
    return m.group(1) + b":" if m else default


def _ods_sheets(xml: bytes) -> dict[str, SheetKinds]:
    """Formula and percentage cells of every table, by patterns over the bytes: tables and rows are walked in
    order (rows repeat: ``number-rows-repeated``), and only the rows holding such a cell have their cells
    counted (cells repeat too: ``number-columns-repeated``). A full parse costs ten times more."""
    (structure, cell_tag, name_attr, formula_attr, rows_attr, cols_attr,
     percent_attr) = _ods_patterns(_prefix_of(xml, _TABLE_NS, b"table:"), _prefix_of(xml, _OFFICE_NS, b"office:"))
    hits = _positions(xml, b"formula=")
    if b"percentage" in xml:
        hits = sorted(hits + _positions(xml, b'"percentage"') + _positions(xml, b"'percentage'"))
    if not hits:
        return {}
    out: dict[str, SheetKinds] = {}
    kinds = SheetKinds()
    row = 0
    found = 0
    marks = iter(structure.finditer(xml))
    current = next(marks, None)
    h = 0
    while current is not None and h < len(hits):
        following = next(marks, None)
        kind, attrs = current.groups()
        if kind == b"table":
            name = name_attr.search(attrs)
            kinds, row = SheetKinds(), 0
            out[xml_text(_value(name)) if name else ""] = kinds
        else:
            repeat = rows_attr.search(attrs)
            rows = _repeat(repeat.group(1) if repeat else None)
            end = following.start() if following is not None else len(xml)
            while h < len(hits) and hits[h] < current.end():
                h += 1  # a match in the row's own tag: not a cell's
            if h < len(hits) and hits[h] < end:
                while h + 1 < len(hits) and hits[h + 1] < end:
                    h += 1
                if found < MAX_GROWTH_CELLS:
                    found += _ods_row(xml, current.end(), hits[h], end, row, min(rows, MAX_REPEAT), kinds,
                                      (cell_tag, formula_attr, cols_attr, percent_attr), MAX_GROWTH_CELLS - found)
                h += 1
            row += rows
        current = following
    return {name: kinds for name, kinds in out.items() if kinds}


def _ods_row(xml: bytes, start: int, last: int, end: int, row: int, rows: int, kinds: SheetKinds,
             patterns: tuple[re.Pattern[bytes], ...], budget: int) -> int:
    """The formula and percentage cells of one row (``start``–``end``, repeated ``rows`` times) up to the cell
    holding position ``last`` (the row's last formula or percentage); how many were recorded, at most
    ``budget``: repeated cells are expanded, and a hostile file repeats them by the million."""
    cell_tag, formula_attr, cols_attr, percent_attr = patterns
    col, found = 0, 0
    for m in cell_tag.finditer(xml, start, end):
        if m.start() > last:
            break
        attrs = m.group(1)
        repeat = cols_attr.search(attrs) if b"repeated" in attrs else None
        span = _repeat(repeat.group(1) if repeat else None)
        formula = formula_attr.search(attrs) if b"formula=" in attrs else None
        percent = b"percentage" in attrs and percent_attr.search(attrs) is not None
        if (formula is not None or percent) and span <= MAX_REPEAT and found + span * rows <= budget:
            text = _ods_formula(_value(formula)) if formula is not None else None
            for r in range(row, row + rows):
                for c in range(col, col + span):
                    found += 1
                    if formula is not None:
                        kinds.formulas[(r, c)] = text
                    if percent:
                        kinds.percent.add((r, c))
        col += span
    return found


# ---------------------------------------------------------------------------------------------------------------
# xls (BIFF5 and BIFF8)

_BOF, _EOF, _FILEPASS, _CODEPAGE, _DATEMODE = 0x0809, 0x000A, 0x002F, 0x0042, 0x0022
_FORMAT, _XF_REC, _BOUNDSHEET = 0x041E, 0x00E0, 0x0085
_FORMULA, _NUMBER, _RK, _MULRK = 0x0006, 0x0203, 0x027E, 0x00BD
_REC = struct.Struct("<HH")
_CELL_HEAD = struct.Struct("<HHH")


class _XlsKinds(CellKinds):
    """Formula cells have no text here (BIFF keeps parsed tokens); their place and the number formats of cells
    come from the records calamine reads too. The globals are read at once, a sheet when it is asked for."""

    def __init__(self, data: bytes) -> None:
        import olefile

        self._offsets: dict[str, int] = {}
        self._styles: dict[int, str] = {}
        self._book = b""
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None or ole.get_size(stream) > MAX_PART_BYTES:
                return
            self._book = ole.openstream(stream).read()
        self._read_globals(self._book)

    def sheet(self, name: str) -> SheetKinds | None:
        offset = self._offsets.get(name)
        return (_xls_sheet(self._book, offset, self._styles) or None) if offset is not None else None

    def _read_globals(self, book: bytes) -> None:
        biff8, codepage = True, 1252
        custom: dict[int, str] = {}
        xf_formats: list[int] = []
        sheets: list[bytes] = []
        pos, end = 0, len(book)
        while pos + 4 <= end:
            rec, size = _REC.unpack_from(book, pos)
            body = book[pos + 4:pos + 4 + size] if rec in _GLOBALS else b""
            pos += 4 + size
            if rec == _BOF:
                biff8 = len(body) >= 2 and struct.unpack_from("<H", body)[0] >= 0x0600
            elif rec == _FILEPASS:
                return  # encrypted: calamine refuses it, and so do we
            elif rec == _CODEPAGE and len(body) >= 2:
                codepage = struct.unpack_from("<H", body)[0]
            elif rec == _DATEMODE and len(body) >= 2:
                self.date1904 = struct.unpack_from("<H", body)[0] == 1
            elif rec == _FORMAT and len(body) >= 3:
                custom[struct.unpack_from("<H", body)[0]] = _biff_string(body, 2, biff8, codepage, wide_count=biff8)
            elif rec == _XF_REC and len(body) >= 4:
                xf_formats.append(struct.unpack_from("<H", body, 2)[0])
            elif rec == _BOUNDSHEET and len(body) >= 7:
                sheets.append(body)
            elif rec == _EOF:
                break
        self._styles = {i: k for i, f in enumerate(xf_formats) if i and (k := _number_kind(f, custom)) is not None}
        for body in sheets:
            if body[5] == 0:  # a worksheet, not a chart or macro sheet
                name = _biff_string(body, 6, biff8, codepage, wide_count=False)
                self._offsets.setdefault(name, struct.unpack_from("<I", body)[0])


_GLOBALS = frozenset((_BOF, _FILEPASS, _CODEPAGE, _DATEMODE, _FORMAT, _XF_REC, _BOUNDSHEET))


def _biff_string(body: bytes, at: int, biff8: bool, codepage: int, *, wide_count: bool) -> str:
    """A BIFF string: a count (1 or 2 bytes), then (BIFF8) a flags byte and Latin-1 or UTF-16 characters,
    or (BIFF5) bytes in the workbook's code page."""
    if wide_count:
        count, at = struct.unpack_from("<H", body, at)[0], at + 2
    else:
        count, at = body[at], at + 1
    if not biff8:
        encoding = "utf-16-le" if codepage == 1200 else f"cp{codepage}"
        try:
            return body[at:at + count].decode(encoding, "replace")
        except LookupError:
            return body[at:at + count].decode("latin-1")
    wide = body[at] & 1
    at += 1
    return body[at:at + count * 2].decode("utf-16-le", "replace") if wide else body[at:at + count].decode("latin-1")


def _xls_sheet(book: bytes, offset: int, styles: dict[int, str]) -> SheetKinds:
    """A worksheet's substream, record by record (a tight loop: xls sheets hold a record per cell)."""
    kinds = SheetKinds()
    formulas = kinds.formulas
    record, cell = _REC.unpack_from, _CELL_HEAD.unpack_from
    wanted = (_FORMULA, _NUMBER, _RK, _MULRK) if styles else (_FORMULA,)
    depth, pos, end = 0, offset, len(book)
    while pos + 4 <= end:
        rec, size = record(book, pos)
        body = pos + 4
        pos = body + size
        if rec in wanted:
            if depth != 1 or size < 6 or pos > end:
                continue  # a chart's substream inside the sheet, or a cut record
            if rec == _MULRK:
                row, first = struct.unpack_from("<HH", book, body)
                for i in range((size - 6) // 6):
                    _mark(kinds, styles.get(struct.unpack_from("<H", book, body + 4 + 6 * i)[0]), (row, first + i))
                continue
            row, col, xf = cell(book, body)
            if rec == _FORMULA:
                formulas[(row, col)] = None
            if styles:
                _mark(kinds, styles.get(xf), (row, col))
        elif rec == _BOF:
            depth += 1
        elif rec == _EOF:
            depth -= 1
            if depth <= 0:
                break
    return kinds


def _mark(kinds: SheetKinds, kind: str | None, pos: Pos) -> None:
    if kind == "percent":
        kinds.percent.add(pos)
    elif kind == "date":
        kinds.dates.add(pos)
