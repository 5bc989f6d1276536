"""The bulk summary workbook 汇总.xlsx, laid out for a reviewer: 概览 (totals, a table per unit and per rule,
native charts), 汇总 (one row per declaration or unreadable file) and 问题清单 (every finding).

The data rows come rendered from the workers (``sheet_rows``); here they are numbered and spilled to files as
they come, so memory does not grow with the folder, and the widths the workers measured are merged. The
cross-file findings are known only once the batch is read and change their declarations' counts and status, so
the 汇总 rows are held and written at ``close`` (问题清单 rows are written as they come, cross-file ones last).
At ``close`` XlsxWriter lays out the workbook (formats, the overview with its charts, each data sheet's header,
widths, filter and print setup) and the rows are spliced into its sheets (``_assemble``). A sheet stops at
Excel's row limit and a cell at its text limit; the sheet's last row then says what was cut and that the CSV
files, which are never cut, hold it all. Links: each file name links to the returned workbook (relative to the
summary), each finding's cell into it (``a.xlsx#'表'!D19``), up to Excel's 65,530 links a sheet.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import shutil
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

from .deflate import LEVEL, Member, Piece, crc32_combine, deflated, inflated
from .fields import BUDGET_FIELDS, HEADER
from .findings import SEVERITY_LABELS, Severity
from .flat import printable as clean
from .profile import strip_unit
from .rules import CATALOGUE
from .sheet_rows import (
    CAPS,
    EXCEL_MAX_CHARS,
    PROJECT,
    STYLE,
    STYLES,
    UNIT,
    Columns,
    Link,
    PackedRows,
    RenderedRows,
    Rows,
    SheetRow,
    all_unlinked,
    cell_url,
    file_url,
    render,
    unlinked,
)
from .sheettext import row_height, text_width, wrapped_lines
from .writers.stable_zip import FIXED_TIME

SUMMARY_XLSX = "汇总.xlsx"
OVERVIEW_SHEET, SUMMARY_SHEET, FINDINGS_SHEET = "概览", "汇总", "问题清单"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_LINKS = 65_530  # hyperlinks in one worksheet
_TARGETS_KEPT = 256  # link targets a sheet remembers, to share their relationships


def money_label(path: str) -> str:
    """An amount's column heading: always in 元, as in the JSON (项目总预算（元）)."""
    return f"{strip_unit(HEADER[path].label)}（元）"


# The summary's row of a declaration: where it is, which form, the fields a reviewer sorts by, every amount (in
# 元, as in the JSON), its counts and its JSON file.
SUMMARY_FIELDS = ("unit_name", "project.name", "year", "project.category", *BUDGET_FIELDS)
SUMMARY_HEADER = ("文件", "工作表", "表式", *(money_label(p) if p in BUDGET_FIELDS else HEADER[p].label
                                          for p in SUMMARY_FIELDS), "错误数", "警告数", "状态", "JSON 文件")
BLANK_FIELDS = (None,) * (len(SUMMARY_FIELDS) + 2)  # sheet, form and fields of a file with no declaration
S_FILE, S_UNIT = SUMMARY_HEADER.index("文件"), SUMMARY_HEADER.index(UNIT)
S_ERRORS, S_WARNINGS, S_STATUS = (SUMMARY_HEADER.index(h) for h in ("错误数", "警告数", "状态"))
_S_TOTAL, _S_CURRENT = (SUMMARY_HEADER.index(money_label(p)) for p in ("budget.total", "budget.current_year"))
SUMMARY_COLUMNS = Columns(SUMMARY_HEADER, frozenset(i for i, h in enumerate(SUMMARY_HEADER) if h.endswith("（元）")))

# A finding as the CSV and the 问题清单 sheet show it: the file, whose form it is, where (a text export's line as
# 第N行), the field as the form names it beside its path, and what is wrong.
FINDINGS_HEADER = ("文件", UNIT, PROJECT, "工作表", "单元格", "字段", "级别", "代码", "说明", "字段路径")
F_FILE, F_UNIT, F_SHEET, F_CELL, F_SEVERITY, F_CODE = (
    FINDINGS_HEADER.index(h) for h in ("文件", UNIT, "工作表", "单元格", "级别", "代码"))
FINDINGS_COLUMNS = Columns(FINDINGS_HEADER)
STATUS_OK, STATUS_WARN, STATUS_ERROR = "通过", "有警告", "有错误"
RowKind = Literal["declaration", "unread", "skipped"]
# A cross-file finding as its declaration's 汇总 row counts it: the declaration's place in the batch, errors and
# warnings more (``SummaryWorkbook.close``).
Extra = tuple[int, int, int]
STATUSES = (STATUS_OK, STATUS_WARN, STATUS_ERROR)
NO_UNIT = "（未注明申报单位）"
_ERROR, _WARNING, _INFO = (SEVERITY_LABELS[s] for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))


def status_of(errors: int, warnings: int) -> str:
    return STATUS_ERROR if errors else STATUS_WARN if warnings else STATUS_OK


def summary_links(link_base: str | None, row: Sequence[Any]) -> dict[int, str] | None:
    """A 汇总 row's link: its file name to the returned workbook."""
    url = file_url(link_base, row[S_FILE]) if row[S_FILE] else None
    return {S_FILE: url} if url else None


def finding_links(link_base: str | None, row: Sequence[Any]) -> dict[int, str] | None:
    """A 问题清单 row's links: its file name to the returned workbook, its cell into it."""
    shown = row[F_FILE]
    if link_base is None or not shown:
        return None
    links: dict[int, str] = {}
    for c, url in ((F_FILE, file_url(link_base, shown)), (F_CELL, cell_url(link_base, shown, row[F_SHEET],
                                                                            row[F_CELL]))):
        if url is not None:
            links[c] = url
    return links or None


class _Sink:
    """The summary workbook's file, given to ``zipfile`` as a file object so that it can be let go: after a
    failed write (a full disk) the zip is left open, and when collected it would flush into the full disk and
    print "Exception ignored…" with a trace on the user's terminal. Once closed, this file takes and drops
    whatever still comes."""

    def __init__(self, path: Path) -> None:
        self._fh: BinaryIO | None = open(path, "xb")

    def write(self, data: bytes) -> int:
        return self._fh.write(data) if self._fh is not None else len(data)

    def tell(self) -> int:
        return self._fh.tell() if self._fh is not None else 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._fh.seek(offset, whence) if self._fh is not None else 0

    def seekable(self) -> bool:
        return True

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()


_HYPERLINK_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"


def _anchor(ref: str, rid: int, location: str) -> str:
    """A cell's ``<hyperlink>`` element; ``location`` is its attribute as the worker rendered it (or empty)."""
    return f'<hyperlink ref="{ref}" r:id="rId{rid}"{location}/>'


def _relationship(rid: int, target: str) -> str:
    return f'<Relationship Id="rId{rid}" Type="{_HYPERLINK_REL}" Target="{target}" TargetMode="External"/>'


class _Sheet:
    """One data sheet as the parent keeps it: rows rendered by the workers (``sheet_rows``), compressed (by the
    workers, for the many rows of 问题清单: ``take_packed``) into a spill file, their links numbered here into two
    more (the ``<hyperlink>`` elements and their relationships); widths merged as rows pass. At ``close``
    XlsxWriter lays the sheet out (header, widths, filter, print setup) and the rows are spliced in as they are
    (``_assemble``). 汇总's rows are held (``hold``) until the cross-file findings are counted in."""

    def __init__(self, book: SummaryWorkbook, name: str, columns: Columns, spill: Path, held: bool = False) -> None:
        self.book, self.name, self.columns = book, name, columns
        self.ws = book.wb.add_worksheet(name)
        self.part = f"xl/worksheets/sheet{self.ws.index + 1}.xml"
        self.widths = columns.heading_widths()
        self.filled = 0
        self.count = self.cut_rows = self.cut_cells = self.links = self.rels = 0
        # A link's relationship is shared with the other links to the same file (a file's findings all link to it):
        # the targets of the latest rows are remembered, a few hundred at most.
        self._rids: dict[str, int] = {}
        self.crc = self.size = 0  # of the rows in the spill file, uncompressed
        self._paths = [spill.with_name(f"{spill.name}.{kind}") for kind in ("rows", "links", "rels", "held")]
        self._rows, self._links, self._rels = (open(p, "xb") for p in self._paths[:3])
        self._held: BinaryIO | None = open(self._paths[3], "xb") if held else None

    def merge(self, widths: Sequence[int], filled: int, cut: int) -> None:
        """What a worker measured of its rows: the widest text per column, which columns hold anything, cut cells."""
        self.filled |= filled
        self.cut_cells += cut
        mine = self.widths
        for c, width in enumerate(widths):
            if width > mine[c]:
                mine[c] = width

    def take(self, rendered: RenderedRows) -> None:
        """A file's rows as a worker rendered them (``write``), with what it measured of them."""
        rows, widths, filled, cut = rendered
        self.merge(widths, filled, cut)
        self.write(rows)

    def take_packed(self, packed: PackedRows) -> None:
        """A file's rows as a worker rendered and compressed them: the piece goes to the spill file as it is, only
        the links are numbered here. Rows past Excel's limits take the row-by-row way (``write``)."""
        piece, row_links, widths, filled, cut = packed
        self.merge(widths, filled, cut)
        if self.count + len(row_links) > self.book.max_rows - 2:
            self.write(zip(_rows_of(inflated(piece)), row_links, strict=True))
            return
        if self.links + sum(map(len, row_links)) > EXCEL_MAX_LINKS:
            text = inflated(piece)
            plain = all_unlinked(self.columns, text, row_links) if self.links >= EXCEL_MAX_LINKS else None
            if plain is None:  # the rows straddle the sheet's last link
                self.write(zip(_rows_of(text), row_links, strict=True))
            else:
                self.count += len(row_links)
                self._add_piece(deflated(plain))
            return
        anchors: list[str] = []
        rels: list[str] = []
        first = self.count + 2  # the sheet's row of the piece's first (the header is row 1)
        for k, links in enumerate(row_links):
            if links:
                self._number(links, str(first + k), anchors, rels)
        self.count += len(row_links)
        self._add_piece(piece)
        self._flush([], anchors, rels)

    def add(self, row: Sequence[Any], links: dict[int, str] | None = None) -> list[Any]:
        """A row rendered here (the parent's own rows: files not read, cross-file findings)."""
        rows = Rows(self.columns, remember=False)
        out = rows.add(row, links)
        self.take(rows.done())
        return out

    def write(self, rows: Iterable[SheetRow], chunk: int = 512) -> None:
        """Rendered rows, compressed here a ``chunk`` of rows at a time, their links numbered. Past Excel's row limit
        a row is counted, not written (the sheet's last row says so); past its links a sheet, a cell keeps its text
        without the link."""
        texts: list[str] = []
        anchors: list[str] = []
        rels: list[str] = []
        limit = self.book.max_rows - 2  # the header's row, and the note on cuts
        for xml, links in rows:
            if self.count >= limit:
                self.cut_rows += 1
                continue
            self.count += 1
            if links:
                room = EXCEL_MAX_LINKS - self.links
                if len(links) > room:
                    xml = unlinked(self.columns, xml, {c for c, _, _ in links[max(room, 0):]})
                    links = links[:max(room, 0)]
                self._number(links, str(self.count + 1), anchors, rels)
            texts.append(xml)
            if len(texts) >= chunk:
                self._flush(texts, anchors, rels)
        self._flush(texts, anchors, rels)

    def _number(self, links: Sequence[Link], number: str, anchors: list[str], rels: list[str]) -> None:
        """A row's links as the sheet holds them, the row being ``number``: an anchor each, and a relationship for
        each target not among the latest rows' (``_rids``)."""
        letters, rids = self.columns.letters, self._rids
        for c, target, location in links:
            self.links += 1
            rid = rids.get(target)
            if rid is None:
                if len(rids) >= _TARGETS_KEPT:
                    rids.clear()
                rid = rids[target] = self.rels = self.rels + 1
                rels.append(_relationship(rid, target))
            anchors.append(_anchor(letters[c] + number, rid, location))

    def _add_piece(self, piece: Piece) -> None:
        self._rows.write(piece.data)
        self.crc = crc32_combine(self.crc, piece.crc, piece.size)
        self.size += piece.size

    def _flush(self, texts: list[str], anchors: list[str], rels: list[str]) -> None:
        if texts:
            self._add_piece(deflated("".join(texts).encode()))
            texts.clear()
        for fh, parts in ((self._links, anchors), (self._rels, rels)):
            if parts:
                fh.write("".join(parts).encode())
                parts.clear()

    def hold(self, row: Sequence[Any], rendered: SheetRow, kind: str) -> None:
        """A 汇总 row kept (values and rendering) until ``held`` gives it back."""
        assert self._held is not None
        pickle.dump((row, rendered, kind), self._held, protocol=pickle.HIGHEST_PROTOCOL)

    def held(self) -> Iterator[tuple[list[Any], SheetRow, str]]:
        assert self._held is not None
        self._held.close()
        self._held = None
        with open(self._paths[3], "rb") as fh:
            while True:
                try:
                    yield pickle.load(fh)
                except EOFError:
                    break

    def lay_out(self, where: str) -> None:
        """The sheet's frame in XlsxWriter: header, the note on what had to be cut, widths, print setup, frozen
        header and autofilter; the rows go in when the workbook is assembled."""
        book, ws = self.book, self.ws
        for c, heading in enumerate(self.columns.header):
            ws.write_string(0, c, heading, book.heading)
        caps = self.columns.caps
        ws.set_row(0, row_height(max(wrapped_lines(h, min(w, cap))  # at the columns' final widths
                                     for h, w, cap in zip(self.columns.header, self.widths, caps, strict=True))))
        last = self.count
        if self.cut_rows or self.cut_cells:
            parts = ([f"另有 {self.cut_rows} 行超出 Excel 的行数上限（{EXCEL_MAX_ROWS:,} 行）未列出"]
                     if self.cut_rows else []) + (
                [f"{self.cut_cells} 个单元格的文字超过 Excel 单元格上限（{EXCEL_MAX_CHARS:,} 个字符），已截断"]
                if self.cut_cells else [])
            ws.write_string(last + 1, 0, f"本表不完整：{'；'.join(parts)}。完整内容见 {where}。", book.bold)
        for c, width in enumerate(self.widths):  # a column no row fills is hidden: no form of the batch has it
            ws.set_column(c, c, min(width, caps[c]), None, {"hidden": not self.filled >> c & 1})
        ws.autofilter(0, 0, last, len(self.columns.header) - 1)
        book.print_setup(ws)

    def close_spills(self) -> None:
        for fh in (self._rows, self._links, self._rels, self._held):
            if fh is not None:
                fh.close()
        self._held = None

    def splice(self, frame: bytes, out: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """Write the sheet's part: XlsxWriter's frame with the rows after its header row, the extent they reach
        and their links; streamed from the spill files, so memory stays flat however many rows."""
        self.close_spills()
        text = frame.decode("utf-8")
        last = self.count + 1 + (1 if self.cut_rows or self.cut_cells else 0)
        text = _DIMENSION.sub(f'<dimension ref="A1:{self.columns.letters[-1]}{last}"/>', text, count=1)
        header_end = text.index("</row>", text.index("<sheetData")) + len("</row>")
        links_at = _after_links.search(text, header_end)
        assert links_at is not None
        rows_path, links_path, rels_path = self._paths[:3]
        big = self.size + os.path.getsize(links_path) > 1 << 30
        member = _member(info.filename, info.date_time)
        with out.open(member, "w", force_zip64=big) as fh:
            fh.write(text[:header_end].encode("utf-8"))
            with open(rows_path, "rb") as rows:
                Member(fh).splice_file(rows, self.crc, self.size)
            fh.write(text[header_end:links_at.start()].encode("utf-8"))
            if self.links:
                fh.write(b"<hyperlinks>")
                _copy(links_path, fh)
                fh.write(b"</hyperlinks>")
            fh.write(text[links_at.start():].encode("utf-8"))
        if self.links:
            with out.open(_member(_rels_part(info.filename), info.date_time), "w") as fh:
                fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                         b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">')
                _copy(rels_path, fh)
                fh.write(b"</Relationships>")

    def abort(self) -> None:
        self.close_spills()


_DIMENSION = re.compile(r'<dimension ref="[^"]*"/>')
# What follows <hyperlinks> in a worksheet (CT_Worksheet's sequence).
_after_links = re.compile(r"<printOptions|<pageMargins|<pageSetup|<headerFooter|<rowBreaks|<colBreaks|"
                          r"<customProperties|<cellWatches|<ignoredErrors|<smartTags|<drawing|<legacyDrawing|"
                          r"<picture|<oleObjects|<controls|<webPublishItems|<tableParts|<extLst|</worksheet>")


def _member(name: str, date_time: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    """A data sheet's part, deflated at the workers' pieces' level (``deflate.LEVEL``: fast, as many rows need).
    ``ZipFile.open`` takes the level from the ZipInfo given it (the ZipFile's own level serves only names), and a
    ZipInfo made here has none: zlib's default, 6, 2.6 times slower than 1 on these rows for a quarter less."""
    member = zipfile.ZipInfo(name, date_time=date_time)
    member.compress_type = zipfile.ZIP_DEFLATED
    member._compresslevel = LEVEL  # type: ignore[attr-defined]  # 3.13: compress_level, this name kept
    return member


def _rels_part(part: str) -> str:
    folder, name = part.rsplit("/", 1)
    return f"{folder}/_rels/{name}.rels"


def _rows_of(piece_text: bytes) -> list[str]:
    """A piece's rows one by one (a row's text holds no "</row>": it is escaped)."""
    parts = piece_text.decode("utf-8").split("</row>")
    return [f"{part}</row>" for part in parts[:-1]]


def _copy(path: Path, out: IO[bytes]) -> None:
    with open(path, "rb") as fh:
        shutil.copyfileobj(fh, out, 1 << 20)


@dataclass
class Overview:
    """What the 概览 sheet says, tallied as rows pass."""

    files: int = 0
    skipped: int = 0
    unreadable: int = 0  # read, but no declaration found (or the file could not be read at all)
    declarations: int = 0
    total: Decimal = Decimal(0)
    current: Decimal = Decimal(0)
    severities: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    unit_declarations: Counter[str] = field(default_factory=Counter)
    unit_findings: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


class SummaryWorkbook:
    """汇总.xlsx, written as a batch streams past (module docstring)."""

    def __init__(self, path: Path, spill: Path | None = None, max_rows: int = EXCEL_MAX_ROWS,
                 link_base: str | None = None) -> None:
        import xlsxwriter

        self.max_rows, self.link_base = max_rows, link_base
        spill = spill or path.parent
        self._sink = _Sink(path)
        self._frame = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self._frame, {"in_memory": True, "strings_to_formulas": False,
                                                    "strings_to_numbers": False, "strings_to_urls": False})
        self.wb.set_properties({"author": "perfgoal", "created": FIXED_TIME})
        formats = {}
        for name, spec in STYLES.items():  # numbered now, in this order, as the workers' rows name them
            fmt = formats[name] = self.wb.add_format(spec)
            if fmt._get_xf_index() != STYLE[name]:
                raise RuntimeError(f"XlsxWriter numbered format {name} {fmt._get_xf_index()}, not {STYLE[name]}")
        self.bold, self.heading, self.title = formats["bold"], formats["heading"], formats["title"]
        self.money = formats["money"]
        self.overview_ws = self.wb.add_worksheet(OVERVIEW_SHEET)  # first in the workbook, written last
        self.summary = _Sheet(self, SUMMARY_SHEET, SUMMARY_COLUMNS, spill / ".summary", held=True)
        self.findings = _Sheet(self, FINDINGS_SHEET, FINDINGS_COLUMNS, spill / ".findings")
        self.tally = Overview()

    # --- rows ----------------------------------------------------------------------------------------
    def add_row(self, row: Sequence[Any], kind: RowKind) -> None:
        """A row of the 汇总 sheet (SUMMARY_HEADER) rendered here: a file's without a declaration, or a file's that
        was listed but not read."""
        rows = Rows(SUMMARY_COLUMNS, remember=False)
        out = rows.add(row, summary_links(self.link_base, row))
        self.add_rows([out], rows.done(), kind)

    def add_rows(self, values: Sequence[Sequence[Any]], rendered: RenderedRows, kind: RowKind) -> None:
        """汇总 rows as a worker rendered them, with their values as written (``Rows.add``)."""
        rows, widths, filled, cut = rendered
        self.summary.merge(widths, filled, cut)
        for row, made in zip(values, rows, strict=True):
            self.summary.hold(list(row), made, kind)

    def add_finding(self, row: Sequence[Any]) -> None:
        """A row of the 问题清单 sheet (FINDINGS_HEADER) rendered here (the cross-file findings)."""
        self.count_finding(row)
        self.findings.add(row, finding_links(self.link_base, row))

    def count_finding(self, row: Sequence[Any]) -> None:
        self.count_findings(row[F_SEVERITY], row[F_CODE], row[F_UNIT])

    def count_findings(self, severity: str, code: str, unit: str | None, n: int = 1) -> None:
        t = self.tally
        t.severities[severity] += n
        t.rules[code] += n
        t.unit_findings[unit or NO_UNIT][severity] += n

    # --- the end ---------------------------------------------------------------------------------------
    def close(self, files: int, skipped: int, extra: Iterable[Extra] = ()) -> None:
        """Write the 汇总 rows with the ``extra`` findings counted in (each: the declaration's place in the batch,
        errors and warnings more; in the batch's order, so that none is held), lay out both data sheets and the
        overview, and assemble the workbook."""
        t = self.tally
        t.files, t.skipped = files, skipped
        summary = self.summary
        summary.write(self._amended(iter(extra)))
        summary.lay_out("json/ 中的 JSON 文件和 declarations.csv")
        self.findings.lay_out("findings.csv")
        _write_overview(self)
        self.wb.close()
        _assemble(self._frame.getvalue(), (self.summary, self.findings), self._sink)
        self._sink.close()

    def _amended(self, extra: Iterator[Extra]) -> Iterator[SheetRow]:
        """The held 汇总 rows with the cross-file findings counted in (rendered again where they change), tallied
        for the overview. ``extra`` is taken along as the rows pass (both in the batch's order) and to its end,
        whatever it holds (its consumer may write as it goes)."""
        t = self.tally
        index = 0
        ahead = next(extra, None)
        for row, (xml, links), kind in self.summary.held():
            if kind == "declaration":
                if ahead is not None and ahead[0] <= index:
                    errors = warnings = 0
                    while ahead is not None and ahead[0] <= index:
                        errors, warnings = errors + ahead[1], warnings + ahead[2]
                        ahead = next(extra, None)
                    row[S_ERRORS] += errors
                    row[S_WARNINGS] += warnings
                    row[S_STATUS] = status_of(row[S_ERRORS], row[S_WARNINGS])
                    xml, links = render(SUMMARY_COLUMNS, row, summary_links(self.link_base, row))
                index += 1
                t.declarations += 1
                t.statuses[row[S_STATUS]] += 1
                t.unit_declarations[row[S_UNIT] or NO_UNIT] += 1
                t.total += row[_S_TOTAL] or 0
                t.current += row[_S_CURRENT] or 0
            elif kind == "unread":
                t.unreadable += 1
            yield xml, links
        for _ in extra:  # past the last declaration: none such, but never left unconsumed
            pass

    def abort(self) -> None:
        """Let go of the open files, quietly (the disk may be full); the staging area they are in is removed
        by the caller."""
        for sheet in (self.summary, self.findings):
            try:
                sheet.abort()
            except OSError:
                pass
        try:
            self._sink.close()
        except OSError:
            pass

    def print_setup(self, ws: Any) -> None:
        """Landscape A4, one page wide, the header row repeated, frozen below it."""
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.freeze_panes(1, 0)


def _assemble(frame: bytes, sheets: Sequence[_Sheet], sink: _Sink) -> None:
    """The final workbook: XlsxWriter's parts as it made them, the data sheets with their rows spliced in."""
    by_part = {sheet.part: sheet for sheet in sheets}
    with zipfile.ZipFile(io.BytesIO(frame)) as source, \
            zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as out:
        names = set(source.namelist())
        for info in source.infolist():
            sheet = by_part.get(info.filename)
            if sheet is None:
                out.writestr(info, source.read(info), compresslevel=6)
            elif _rels_part(info.filename) in names:
                raise RuntimeError(f"{info.filename} already has relationships")  # the frame holds no links
            else:
                sheet.splice(source.read(info), out, info)


# ----------------------------------------------------------------------------------------------------------
# 概览
# ----------------------------------------------------------------------------------------------------------
CHART_ITEMS = 15  # bars a chart shows: the units and rules with the most findings


def _write_overview(book: SummaryWorkbook) -> None:
    """Totals, declarations by status, findings per rule and per unit, and a native chart of each, so that
    they render in Excel, WPS and LibreOffice alike."""
    t, ws, wb = book.tally, book.overview_ws, book.wb
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    cell = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    count = wb.add_format({"border": 1, "num_format": "#,##0", "valign": "top"})
    money = wb.add_format({"border": 1, "num_format": "#,##0.00", "valign": "top"})
    section = wb.add_format({"bold": True, "font_size": 12})
    ws.write_string(0, 0, "批量转换概览", book.title)
    row = 2
    ws.write_string(row, 0, "总计", section)
    totals: list[tuple[str, Any, Any]] = [
        ("文件数", t.files, count), ("其中未读取（已跳过）", t.skipped, count),
        ("未读出申报表的文件", t.unreadable, count), ("申报表数", t.declarations, count),
        ("错误", t.severities[_ERROR], count), ("警告", t.severities[_WARNING], count),
        ("提示", t.severities[_INFO], count),
        (f"{strip_unit(HEADER['budget.total'].label)}合计（元）", float(t.total), money),
        (f"{strip_unit(HEADER['budget.current_year'].label)}合计（元）", float(t.current), money)]
    for label, value, fmt in totals:
        row += 1
        ws.write_string(row, 0, label, cell)
        ws.write_number(row, 1, value, fmt)
    widths = [max(text_width(label) for label, _, _ in totals) + 2, len(f"{float(t.total):,.2f}") + 2, 8, 8, 8]

    row += 2
    ws.write_string(row, 0, "申报表状态", section)
    status_head = row + 1
    _table_row(ws, status_head, ("状态", "申报表数"), head)
    for i, status in enumerate(STATUSES, start=1):
        ws.write_string(status_head + i, 0, status, cell)
        ws.write_number(status_head + i, 1, t.statuses[status], count)
    row = status_head + len(STATUSES) + 2

    ws.write_string(row, 0, "各规则问题数", section)
    rule_head = row + 1
    _table_row(ws, rule_head, ("代码", "规则", "级别", "条数"), head)
    rules = sorted(t.rules.items(), key=lambda kv: (-kv[1], kv[0]))
    for i, (code, n) in enumerate(rules, start=1):
        rule = CATALOGUE.get(code)
        ws.write_string(rule_head + i, 0, code, cell)
        ws.write_string(rule_head + i, 1, rule.title if rule else code, cell)
        ws.write_string(rule_head + i, 2, SEVERITY_LABELS[rule.severity] if rule else "", cell)
        ws.write_number(rule_head + i, 3, n, count)
        widths[1] = max(widths[1], min(30, text_width(rule.title if rule else code) + 2))
    row = rule_head + len(rules) + 2

    ws.write_string(row, 0, "各单位情况", section)
    unit_head = row + 1
    header = (UNIT, "申报表数", "错误数", "警告数", "状态")
    _table_row(ws, unit_head, header, head)
    units = sorted(set(t.unit_declarations) | set(t.unit_findings),
                   key=lambda u: (-t.unit_findings[u][_ERROR], -t.unit_findings[u][_WARNING], u))
    for i, unit in enumerate(units, start=1):
        found = t.unit_findings[unit]
        ws.write_string(unit_head + i, 0, clean(unit), cell)
        for c, n in enumerate((t.unit_declarations[unit], found[_ERROR], found[_WARNING]), start=1):
            ws.write_number(unit_head + i, c, n, count)
        ws.write_string(unit_head + i, 4, status_of(found[_ERROR], found[_WARNING]), cell)
        widths[0] = max(widths[0], min(CAPS[UNIT], text_width(unit) + 2))
    ws.autofilter(unit_head, 0, unit_head + len(units), len(header) - 1)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    book.print_setup(ws)
    _charts(book, status_head, rule_head, len(rules), unit_head, len(units))


def _table_row(ws: Any, row: int, values: Sequence[str], fmt: Any) -> None:
    for c, value in enumerate(values):
        ws.write_string(row, c, value, fmt)


def _charts(book: SummaryWorkbook, status_head: int, rule_head: int, rules: int, unit_head: int, units: int) -> None:
    wb, ws, name = book.wb, book.overview_ws, OVERVIEW_SHEET
    font = {"name": "宋体"}
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"name": "申报表状态", "categories": [name, status_head + 1, 0, status_head + 3, 0],
                    "values": [name, status_head + 1, 1, status_head + 3, 1], "data_labels": {"value": True},
                    "points": [{"fill": {"color": c}} for c in ("#70AD47", "#FFC000", "#E15759")]})
    pie.set_title({"name": "申报表状态", "name_font": font})
    pie.set_legend({"position": "right", "font": font})
    at = _place(ws, 1, pie, 1.0, 0.9)
    if rules:
        last = rule_head + min(rules, CHART_ITEMS)
        bar = wb.add_chart({"type": "bar"})
        bar.add_series({"name": "条数", "categories": [name, rule_head + 1, 0, last, 0],
                        "values": [name, rule_head + 1, 3, last, 3], "fill": {"color": "#4472C4"},
                        "data_labels": {"value": True}})
        bar.set_title({"name": "各规则问题数", "name_font": font})
        bar.set_legend({"none": True})
        bar.set_y_axis({"reverse": True, "num_font": font})
        at = _place(ws, at, bar, 1.0, 1.0 + min(rules, CHART_ITEMS) / 20)
    if units:
        last = unit_head + min(units, CHART_ITEMS)
        stacked = wb.add_chart({"type": "bar", "subtype": "stacked"})
        for c, color in ((2, "#E15759"), (3, "#FFC000")):
            stacked.add_series({"name": [name, unit_head, c], "categories": [name, unit_head + 1, 0, last, 0],
                                "values": [name, unit_head + 1, c, last, c], "fill": {"color": color}})
        stacked.set_title({"name": "各单位问题数", "name_font": font})
        stacked.set_legend({"position": "bottom", "font": font})
        stacked.set_y_axis({"reverse": True, "num_font": font})
        _place(ws, at, stacked, 1.3, 1.0 + min(units, CHART_ITEMS) / 20)


def _place(ws: Any, row: int, chart: Any, x_scale: float, y_scale: float) -> int:
    """Put a chart right of the tables at ``row``; returns the first free row below it (a chart is 15 default
    rows tall at scale 1)."""
    ws.insert_chart(row, 6, chart, {"x_scale": x_scale, "y_scale": y_scale})
    return row + math.ceil(15 * y_scale) + 1
