"""The bulk summary workbook 汇总.xlsx, laid out for a reviewer: 概览 (totals, a table per unit and per rule,
native charts), 汇总 (one row per declaration or unreadable file) and 问题清单 (every finding).

Written with XlsxWriter in constant-memory mode: rows go to disk as they are added and strings are stored inline,
so memory does not grow with the folder. Column widths are measured as rows pass (CJK characters count double)
and set at ``close``; each row's height is set from its wrapped text (``_Sheet``). The cross-file findings are
known only once the batch is read and change their declarations' counts and status, so the 汇总 rows are
spilled to a file and written at ``close`` (问题清单 rows are written as they come, cross-file ones last); the
overview, first in the workbook, is written last. A sheet stops at Excel's row limit and a cell at its text
limit; the sheet's last row then says what was cut and that the CSV files, which are never cut, hold it all.
Links: each file name links to the returned workbook (relative to the summary), each finding's cell into it
(``a.xlsx#'表'!D19``), up to Excel's 65,530 links a sheet.
"""

from __future__ import annotations

import math
import os
import pickle
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal

from .feedback import cell_link
from .fields import BUDGET_FIELDS, HEADER
from .findings import SEVERITY_LABELS, Severity
from .flat import printable as clean
from .profile import strip_unit
from .rules import CATALOGUE
from .sheettext import row_height, text_width, wrapped_lines
from .writers.stable_zip import FIXED_TIME

SUMMARY_XLSX = "汇总.xlsx"
OVERVIEW_SHEET, SUMMARY_SHEET, FINDINGS_SHEET = "概览", "汇总", "问题清单"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CHARS = 32_767  # UTF-16 code units in one cell
EXCEL_MAX_LINKS = 65_530  # hyperlinks in one worksheet
_CUT_MARK = "…（已截断）"
UNIT, PROJECT = HEADER["unit_name"].label, HEADER["project.name"].label


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
_S_MONEY = frozenset(i for i, h in enumerate(SUMMARY_HEADER) if h.endswith("（元）"))
_S_TOTAL, _S_CURRENT = (SUMMARY_HEADER.index(money_label(p)) for p in ("budget.total", "budget.current_year"))

# A finding as the CSV and the 问题清单 sheet show it: the file, whose form it is, where (a text export's line as
# 第N行), the field as the form names it beside its path, and what is wrong.
FINDINGS_HEADER = ("文件", UNIT, PROJECT, "工作表", "单元格", "字段", "级别", "代码", "说明", "字段路径")
F_FILE, F_UNIT, F_SHEET, F_CELL, F_SEVERITY, F_CODE = (
    FINDINGS_HEADER.index(h) for h in ("文件", UNIT, "工作表", "单元格", "级别", "代码"))
STATUS_OK, STATUS_WARN, STATUS_ERROR = "通过", "有警告", "有错误"
RowKind = Literal["declaration", "unread", "skipped"]
STATUSES = (STATUS_OK, STATUS_WARN, STATUS_ERROR)
NO_UNIT = "（未注明申报单位）"
_ERROR, _WARNING, _INFO = (SEVERITY_LABELS[s] for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))

# How wide a column may grow before its text wraps, by heading (others: _CAP); a heading wider than _HEADING
# wraps rather than widening its column (amounts have long headings and short values).
_CAPS = {"文件": 28, UNIT: 20, PROJECT: 24, "说明": 60, "字段": 18, "字段路径": 22, "工作表": 16, "JSON 文件": 24,
         "规则": 30}
_CAP = 16
_HEADING = 10
_WRAPPED = frozenset({"文件", UNIT, PROJECT, "说明", "字段", "规则", "工作表", "JSON 文件", "字段路径"})


def status_of(errors: int, warnings: int) -> str:
    return STATUS_ERROR if errors else STATUS_WARN if warnings else STATUS_OK


def _utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


class _Sink:
    """The summary workbook's file, given to XlsxWriter as a file object so that it can be let go: after a
    failed write (a full disk) XlsxWriter's zip is left open, and when collected it would flush into the
    full disk and print "Exception ignored…" with a trace on the user's terminal. Once closed, this file
    takes and drops whatever still comes."""

    def __init__(self, path: Path) -> None:
        self._fh: BinaryIO | None = open(path, "xb")

    def write(self, data: bytes) -> int:
        return self._fh.write(data) if self._fh is not None else len(data)

    def tell(self) -> int:
        return self._fh.tell() if self._fh is not None else 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._fh.seek(offset, whence) if self._fh is not None else 0

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()


class _Sheet:
    """One data sheet, its column widths measured as rows pass (wrapped columns up to a cap).

    Excel and LibreOffice do not grow a row for wrapped text that a generated file leaves at the default
    height, so each row's height is set from its text. Computed at the cap, it is the height at the final
    width too: a column narrower than its cap holds no text longer than itself. So rows can be written as they
    come (``spill=None``), or spilled and written at ``finish`` where they are amended first (汇总's counts)."""

    def __init__(self, book: SummaryWorkbook, name: str, header: Sequence[str], spill: Path | None = None,
                 money: Iterable[int] = ()) -> None:
        self.book, self.name, self.header = book, name, tuple(header)
        self.ws = book.wb.add_worksheet(name)
        self.money = frozenset(money)
        self.caps = [_CAPS.get(h, _CAP) for h in header]
        self.wrapped = [h in _WRAPPED for h in header]
        self.widths = [min(text_width(h), _HEADING) + 2 for h in header]
        self.filled = [False] * len(header)
        self.count = self.cut_rows = self.cut_cells = self.links = 0
        self._path = spill
        self._spill: BinaryIO | None = open(spill, "xb") if spill is not None else None
        self._last_links: dict[int, tuple[str, Any]] = {}
        if spill is None:
            self._header()

    def text(self, value: str) -> str:
        value = clean(value)
        if len(value) > EXCEL_MAX_CHARS // 2 and _utf16_len(value) > EXCEL_MAX_CHARS:
            self.cut_cells += 1
            keep = EXCEL_MAX_CHARS - len(_CUT_MARK)
            value = value.encode("utf-16-le")[: 2 * keep].decode("utf-16-le", "ignore") + _CUT_MARK
        return value

    def append(self, row: Sequence[Any], links: dict[int, str] | None = None, kind: str = "") -> None:
        """A data row (with links by column, and a kind a spilled sheet's reader may ask for)."""
        if self.count >= self.book.max_rows - 2:  # the header's row, and the last kept for the note on cuts
            self.cut_rows += 1
            return
        widths, caps, filled = self.widths, self.caps, self.filled
        out = list(row)
        for c, value in enumerate(out):
            if value is None:
                continue
            filled[c] = True
            if isinstance(value, str):
                value = out[c] = self.text(value)
                if widths[c] < caps[c] and 2 * len(value) + 2 > widths[c]:
                    widths[c] = max(widths[c], text_width(value) + 2)
            elif c in self.money:
                widths[c] = max(widths[c], len(f"{float(value):,.2f}") + 2)
            else:
                widths[c] = max(widths[c], len(str(value)) + 2)
        self.count += 1
        if self._spill is not None:
            pickle.dump((out, links, kind), self._spill, protocol=pickle.HIGHEST_PROTOCOL)
        else:
            self._write(self.count, out, links)

    def spilled(self) -> Iterator[tuple[list[Any], dict[int, str] | None, str]]:
        assert self._spill is not None and self._path is not None
        self._spill.close()
        self._spill = None
        with open(self._path, "rb") as fh:
            while True:
                try:
                    yield pickle.load(fh)
                except EOFError:
                    break
        os.unlink(self._path)

    def _header(self) -> None:
        ws, book = self.ws, self.book
        for c, heading in enumerate(self.header):
            ws.write_string(0, c, heading, book.heading)
        ws.set_row(0, row_height(max(wrapped_lines(h, w) for h, w in zip(self.header, self.widths, strict=True))))

    def _write(self, r: int, row: Sequence[Any], links: dict[int, str] | None) -> None:
        """One row; a row whose text wraps onto more lines gets its height and top-aligned, wrapping cells (the
        rest, most rows, are written without a format: half the cost)."""
        book, ws, caps, wrapped = self.book, self.ws, self.caps, self.wrapped
        lines = 1
        for c, value in enumerate(row):
            if wrapped[c] and isinstance(value, str) and 2 * len(value) + 2 > caps[c]:
                lines = max(lines, wrapped_lines(value, caps[c]))
        tall = lines > 1
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                url = links.get(c) if links else None
                if url is not None and self.links < EXCEL_MAX_LINKS:
                    self.links += 1
                    ws.write_url(r, c, self._url(c, url, value), book.link_wrap if tall else book.link)
                else:  # never a formula, whatever the text
                    ws.write_string(r, c, value, (book.wrap if wrapped[c] else book.top) if tall else None)
            elif c in self.money:
                ws.write_number(r, c, float(value), book.money)
            else:
                ws.write_number(r, c, value, book.top if tall else None)
        if tall:
            ws.set_row(r, row_height(lines))

    def _url(self, column: int, link: str, text: str) -> Any:
        """XlsxWriter's parsed link showing ``text``, the column's last one kept: a file's findings come together
        and link to it alike (a link always shows the same text: the file's name, or the cell)."""
        last = self._last_links.get(column)
        if last is None or last[0] != link:
            from xlsxwriter.url import Url

            url = Url(link)
            url.text = text
            last = self._last_links[column] = (link, url)
        return last[1]

    def finish(self, where: str, rows: Iterable[tuple[list[Any], dict[int, str] | None, str]] = ()) -> None:
        """Write a spilled sheet's header and ``rows`` (the spilled ones, perhaps amended); then the note on
        what had to be cut, widths, print setup, frozen header and autofilter."""
        book, ws = self.book, self.ws
        if self._path is not None:
            self._header()
            for r, (row, links, _) in enumerate(rows, start=1):
                self._write(r, row, links)
        last = self.count
        if self.cut_rows or self.cut_cells:
            parts = ([f"另有 {self.cut_rows} 行超出 Excel 的行数上限（{EXCEL_MAX_ROWS:,} 行）未列出"]
                     if self.cut_rows else []) + (
                [f"{self.cut_cells} 个单元格的文字超过 Excel 单元格上限（{EXCEL_MAX_CHARS:,} 个字符），已截断"]
                if self.cut_cells else [])
            ws.write_string(last + 1, 0, f"本表不完整：{'；'.join(parts)}。完整内容见 {where}。", book.bold)
        for c, width in enumerate(self.widths):  # a column no row fills is hidden: no form of the batch has it
            ws.set_column(c, c, min(width, self.caps[c]), None, {"hidden": not self.filled[c]})
        ws.autofilter(0, 0, last, len(self.header) - 1)
        book.print_setup(ws)

    def abort(self) -> None:
        if self._spill is not None:
            self._spill.close()


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
        options: dict[str, Any] = {"constant_memory": True, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False, "tmpdir": str(spill)}
        self._sink = _Sink(path)
        self.wb = xlsxwriter.Workbook(self._sink, options)
        self.wb.set_properties({"author": "perfgoal", "created": FIXED_TIME})
        add = self.wb.add_format
        self.bold = add({"bold": True})
        self.heading = add({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
        self.title = add({"bold": True, "font_size": 14})
        self.top = add({"valign": "top"})
        self.money = add({"num_format": "#,##0.00", "valign": "top"})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.link = add({"font_color": "#0563C1", "underline": 1, "valign": "top"})
        self.link_wrap = add({"font_color": "#0563C1", "underline": 1, "text_wrap": True, "valign": "top"})
        self.overview_ws = self.wb.add_worksheet(OVERVIEW_SHEET)  # first in the workbook, written last
        self.summary = _Sheet(self, SUMMARY_SHEET, SUMMARY_HEADER, spill / ".summary-rows", _S_MONEY)
        self.findings = _Sheet(self, FINDINGS_SHEET, FINDINGS_HEADER)
        self.tally = Overview()

    # --- links ---------------------------------------------------------------------------------------
    def file_url(self, shown: str) -> str | None:
        """A link from the summary to a returned file, relative to the summary's folder; none for a name that is
        not the file's own (bytes shown as ``\\xNN``) or that a link cannot carry (``#``; a ``%`` XlsxWriter may take
        for an escape already made)."""
        if self.link_base is None or any(ch in shown for ch in "\\#%"):
            return None
        return f"external:{self.link_base}/{shown}" if self.link_base else f"external:{shown}"

    def cell_url(self, shown: str, sheet: str | None, cell: str | None) -> str | None:
        base = self.file_url(shown)
        if base is None or not sheet or not cell:
            return None
        return f"{base}#{cell_link(sheet, cell)}"

    # --- rows ----------------------------------------------------------------------------------------
    def add_row(self, row: Sequence[Any], kind: RowKind) -> None:
        """A row of the 汇总 sheet (SUMMARY_HEADER): a declaration's, a file's without one, or a file's that was
        listed but not read."""
        url = self.file_url(row[S_FILE]) if row[S_FILE] else None
        self.summary.append(row, {S_FILE: url} if url else None, kind)

    def add_finding(self, row: Sequence[Any]) -> None:
        """A row of the 问题清单 sheet (FINDINGS_HEADER)."""
        t = self.tally
        t.severities[row[F_SEVERITY]] += 1
        t.rules[row[F_CODE]] += 1
        t.unit_findings[row[F_UNIT] or NO_UNIT][row[F_SEVERITY]] += 1
        shown = row[F_FILE]
        links: dict[int, str] = {}
        if self.link_base is not None and shown:
            for c, url in ((F_FILE, self.file_url(shown)), (F_CELL, self.cell_url(shown, row[F_SHEET], row[F_CELL]))):
                if url is not None:
                    links[c] = url
        self.findings.append(row, links or None)

    # --- the end ---------------------------------------------------------------------------------------
    def close(self, files: int, skipped: int, extra: dict[int, Counter[str]]) -> None:
        """Write the 汇总 rows (with ``extra`` findings per declaration, by its place in the batch), the
        问题清单 rows, the overview, and finish the workbook."""
        t = self.tally
        t.files, t.skipped = files, skipped
        self.summary.finish("json/ 中的 JSON 文件和 declarations.csv", self._amended(extra))
        self.findings.finish("findings.csv")
        _write_overview(self)
        self.wb.close()
        self._sink.close()

    def _amended(self, extra: dict[int, Counter[str]]) -> Iterator[tuple[list[Any], dict[int, str] | None, str]]:
        """The spilled 汇总 rows with the cross-file findings counted in, tallied for the overview."""
        t = self.tally
        index = 0
        for row, links, kind in self.summary.spilled():
            if kind == "declaration":
                more = extra.get(index)
                if more:
                    row[S_ERRORS] += more[_ERROR]
                    row[S_WARNINGS] += more[_WARNING]
                    row[S_STATUS] = status_of(row[S_ERRORS], row[S_WARNINGS])
                index += 1
                t.declarations += 1
                t.statuses[row[S_STATUS]] += 1
                t.unit_declarations[row[S_UNIT] or NO_UNIT] += 1
                t.total += row[_S_TOTAL] or 0
                t.current += row[_S_CURRENT] or 0
            elif kind == "unread":
                t.unreadable += 1
            yield row, links, kind

    def abort(self) -> None:
        """Let go of the open files, quietly (the disk may be full); the staging area they are in is removed
        by the caller. The workbook is not finished: its sheets' spill files are closed unwritten."""
        for sheet in (self.summary, self.findings):
            try:
                sheet.abort()
            except OSError:
                pass
        try:
            self._sink.close()
        except OSError:
            pass
        for ws in self.wb.worksheets():
            try:
                ws._opt_close()  # XlsxWriter's own clean-up of a constant-memory sheet's spill file
            except (OSError, AttributeError):
                pass

    def print_setup(self, ws: Any) -> None:
        """Landscape A4, one page wide, the header row repeated, frozen below it."""
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.freeze_panes(1, 0)


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
        widths[0] = max(widths[0], min(_CAPS[UNIT], text_width(unit) + 2))
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
