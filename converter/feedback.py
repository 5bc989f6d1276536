"""Marking a workbook with its findings: the one implementation behind the add-in's 校验本表 and the marked-up
copies ``perfgoal bulk --feedback`` writes for each returned workbook.

``apply`` decides everything staff see: which cells are filled (errors red, warnings yellow; an info is listed
but not marked), the comment on each (every message about that cell, worst first), and the 校验结果 sheet that
lists every finding with a link to its cell; marks left by an earlier check of the same sheets are cleared
first. It works on anything with the three ``Marks`` methods: the add-in's books (xlwings in Excel, openpyxl
in tests) and ``OpenpyxlMarks`` here.

``feedback_copies`` makes the bulk copies: a returned xlsx/xlsm is loaded with openpyxl, marked and saved under
a name mirroring its own (the input is never touched); a text export, an xls, an ods or a workbook openpyxl
cannot load gets a new workbook of its declarations in our template instead, marked where each finding's field
sits there. Copies are saved with fixed timestamps, so a rerun gives the same bytes.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from .findings import SEVERITY_LABELS, Finding, Severity
from .model import Declaration
from .places import cell_order, field_text
from .readers.grid import CellRange, Grid, parse_cell, parse_ref
from .readers.locate import locate_forms
from .reading import FileResult, cell_of
from .severity import SEVERITY_RANK
from .sheettext import row_height, wrapped_lines
from .template_layout import PROFILE_NAME
from .writers.stable_zip import FIXED_TIME, ZIP_TIME

FILLS = {Severity.ERROR: "FFC7CE", Severity.WARNING: "FFEB9C"}
RESULTS_SHEET = "校验结果"
RESULTS_HEADER = ["级别", "代码", "说明", "工作表", "单元格", "字段"]
_SHEET_COL, _CELL_COL = RESULTS_HEADER.index("工作表"), RESULTS_HEADER.index("单元格")
COMMENT_AUTHOR = "绩效目标校验"
FEEDBACK_DIR = "反馈"
KEPT_SUFFIXES = (".xlsx", ".xlsm")  # copies openpyxl can mark in place


class Note(NamedTuple):
    """One finding as a workbook shows it: where, how bad, what, and the field in the form's words."""

    severity: Severity
    code: str
    message: str
    sheet: str | None
    cell: str | None
    field: str | None


def note_of(f: Finding, profile: str | None, sheet: str | None = None) -> Note:
    return Note(f.severity, f.code, f.message, f.sheet or sheet, f.cell, field_text(f.field, profile))


class Marks(Protocol):
    """What marking needs of a workbook (``xl_addin.book.Book`` has these three)."""

    def mark(self, sheet: str, cell: str, severity: Severity | None, note: str | None) -> None: ...
    def write_sheet(self, title: str, rows: list[list[Any]], links: dict[tuple[int, int], str]) -> None: ...
    def read_sheet(self, title: str) -> list[list[Any]] | None: ...


def cell_link(sheet: str, cell: str) -> str:
    """A reference to a cell that any sheet name survives: ``'It''s'!D19``."""
    return "'{}'!{}".format(sheet.replace("'", "''"), cell)


def previous_marks(target: Marks, sheet: str) -> set[str]:
    """Cells an earlier check marked on ``sheet``, as its 校验结果 sheet lists them."""
    rows = target.read_sheet(RESULTS_SHEET) or []
    return {str(r[_CELL_COL]) for r in rows[1:]
            if len(r) > _CELL_COL and r[_SHEET_COL] == sheet and r[_CELL_COL] and parse_cell(str(r[_CELL_COL]))}


def comment_text(notes: Iterable[Note]) -> str:
    """Every message about one cell, worst first: the comment staff read on it."""
    return "\n".join(f"【{SEVERITY_LABELS[n.severity]}】{n.message}" for n in notes)


def apply(target: Marks, notes: Sequence[Note], sheets: Sequence[str]) -> None:
    """Mark ``sheets`` of ``target`` with ``notes``: earlier marks there cleared, offending cells filled and
    commented, the 校验结果 sheet written anew (errors first, then down each sheet in cell order)."""
    for sheet in sheets:
        for cell in previous_marks(target, sheet):
            target.mark(sheet, cell, None, None)
    by_cell: dict[tuple[str, str], list[Note]] = defaultdict(list)
    for n in notes:
        if n.sheet and n.cell and n.severity != Severity.INFO and parse_cell(n.cell):
            by_cell[(n.sheet, n.cell)].append(n)
    for (sheet, cell), group in by_cell.items():
        group.sort(key=lambda n: SEVERITY_RANK[n.severity])
        target.mark(sheet, cell, group[0].severity, comment_text(group))
    place = {s: i for i, s in enumerate(sheets)}
    ordered = sorted(notes, key=lambda n: (SEVERITY_RANK[n.severity], place.get(n.sheet or "", len(place)),
                                           cell_order(n.cell)))
    rows: list[list[Any]] = [list(RESULTS_HEADER)]
    links: dict[tuple[int, int], str] = {}
    for i, n in enumerate(ordered, start=1):
        rows.append([SEVERITY_LABELS[n.severity], n.code, n.message, n.sheet, n.cell, n.field])
        if n.sheet and n.cell and parse_cell(n.cell):
            links[(i, _CELL_COL)] = cell_link(n.sheet, n.cell)
    target.write_sheet(RESULTS_SHEET, rows, links)


# ----------------------------------------------------------------------------------------------------------
# openpyxl
# ----------------------------------------------------------------------------------------------------------
_RESULT_WIDTHS = {"级别": 6, "代码": 7, "说明": 70, "工作表": 18, "单元格": 8, "字段": 22}


class OpenpyxlMarks:
    """``Marks`` on an openpyxl workbook in memory; also what reading a form back from it needs."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb

    def mark(self, sheet: str, cell: str, severity: Severity | None, note: str | None) -> None:
        from openpyxl.comments import Comment
        from openpyxl.styles import PatternFill

        ws = self.wb[sheet]
        target = ws[_anchor(ws, cell)]
        color = FILLS.get(severity) if severity is not None else None
        target.fill = PatternFill(fill_type="solid", start_color=color, end_color=color) if color else PatternFill()
        if note:
            comment = Comment(note, COMMENT_AUTHOR)
            comment.width = 320  # points: a message or two readable without resizing the box
            comment.height = min(400, 40 + 16 * (len(note) // 22 + note.count("\n")))
            target.comment = comment
        else:
            target.comment = None

    def write_sheet(self, title: str, rows: list[list[Any]], links: dict[tuple[int, int], str]) -> None:
        from openpyxl.styles import Alignment, Font
        from openpyxl.worksheet.hyperlink import Hyperlink

        if title in self.wb.sheetnames:
            del self.wb[title]
        ws = self.wb.create_sheet(title)
        wrap = Alignment(wrap_text=True, vertical="top")
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(r, c, value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, never a formula, whatever it starts with
                cell.alignment = wrap
                if r == 1:
                    cell.font = Font(bold=True)
        for (r, c), location in links.items():
            cell = ws.cell(r + 1, c + 1)
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=location)
            cell.style = "Hyperlink"
        widths = [_RESULT_WIDTHS.get(str(name), 12) for name in (rows[0] if rows else [])]
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[ws.cell(1, c).column_letter].width = width
        for r, row in enumerate(rows, start=1):  # wrapped text does not grow a generated row by itself
            lines = max((wrapped_lines(v, w) for v, w in zip(row, widths, strict=False) if isinstance(v, str)),
                        default=1)
            if lines > 1:
                ws.row_dimensions[r].height = row_height(lines)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"

    def read_sheet(self, title: str) -> list[list[Any]] | None:
        if title not in self.wb.sheetnames:
            return None
        return [list(r) for r in self.wb[title].iter_rows(values_only=True)]

    def grid(self, sheet: str) -> Grid:
        ws = self.wb[sheet]
        rows = [[None if v == "" else v for v in r] for r in ws.iter_rows(values_only=True)]
        merged = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
        return Grid(sheet=sheet, rows=rows, merged=merged)

    def names(self, sheet: str) -> dict[str, CellRange]:
        out = {}
        for name, dn in self.wb[sheet].defined_names.items():
            parsed = parse_ref(dn.attr_text or "")
            if parsed is not None and name != PROFILE_NAME:
                out[name] = parsed[1]
        return out


def _anchor(ws: Any, cell: str) -> str:
    """The cell itself, or the first cell of the merged range it lies in (only that one holds a fill and a
    comment)."""
    for merged in ws.merged_cells.ranges:
        if cell in merged and cell != merged.start_cell.coordinate:
            return str(merged.start_cell.coordinate)
    return cell


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose every member carries the project's fixed timestamp: openpyxl stamps members with the time
    of saving, and a rerun must give the same bytes. (Cheaper than ``stable_xlsx``'s second pass over a saved
    workbook, which also re-encodes text and shares formulas: a copy needs neither.)"""

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: Any = None,
                 compresslevel: Any = None) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename: Any, arcname: Any = None, compress_type: Any = None, compresslevel: Any = None
              ) -> None:
        with open(filename, "rb") as fh:  # openpyxl writes each sheet through a temporary file
            self.writestr(self._info(arcname or Path(filename).name), fh.read())


def _saved(wb: Any) -> bytes:
    """The workbook's bytes, the same for the same content: members and the modified stamp fixed."""
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.modified = FIXED_TIME
    raw = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ExcelWriter(wb, _FixedTimeZip(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return raw.getvalue()


# ----------------------------------------------------------------------------------------------------------
# Copies for bulk conversion
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedbackOptions:
    """What a worker needs to name its copies: the inputs whose converted copy's plain name (``a.xls`` →
    ``a.xls.xlsx``) is itself the name of another input of the batch, and so takes a hashed name instead."""

    conflicts: frozenset[str] = frozenset()


def converted_suffix(profile: str | None = None) -> str:
    """What a converted copy's name adds to its input's: ``.xlsx``, or ``.<profile>.xlsx`` for one form version
    when a file holds declarations of several."""
    return f".{profile}.xlsx" if profile else ".xlsx"


def converted_suffixes(profiles: Iterable[str]) -> tuple[str, ...]:
    """Every suffix a converted copy's name may take (``converted_suffix``)."""
    return (converted_suffix(), *map(converted_suffix, profiles))


def kept(rel: str) -> bool:
    return rel.lower().endswith(KEPT_SUFFIXES)


def _notes(result: FileResult) -> tuple[list[Note], list[str]]:
    notes = [note_of(f, None) for f in result.findings]
    sheets = []
    for d in result.declarations:
        notes += [note_of(f, d.declaration.profile, d.sheet) for f in d.findings]
        if d.sheet is not None and d.sheet not in sheets:
            sheets.append(d.sheet)
    return notes, sheets


def marked_copy(data: bytes, rel: str, result: FileResult) -> bytes:
    """The returned workbook itself, marked (raises when openpyxl cannot load it)."""
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's notes on parts it drops (x14 validations, slicers…)
        wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=rel.lower().endswith(".xlsm"))
    notes, sheets = _notes(result)
    apply(OpenpyxlMarks(wb), notes, [s for s in sheets if s in wb.sheetnames])
    return _saved(wb)


def converted_copy(declarations: Sequence[tuple[Declaration, list[Finding]]]) -> bytes:
    """A new workbook of the declarations (one form version) in our template, each finding marked where its
    field sits there; a finding without a field (a cell the reader could not place) is listed, not marked."""
    from .writers.xlsx import build_workbook

    wb = build_workbook([d for d, _ in declarations])
    marks = OpenpyxlMarks(wb)
    notes: list[Note] = []
    sheets = []
    for ws, (decl, findings) in zip(wb.worksheets, declarations, strict=False):
        sheets.append(ws.title)
        forms = locate_forms(marks.grid(ws.title), marks.names(ws.title), decl.profile)
        for f in findings:
            cell = cell_of(forms[0], f.field) if forms and f.field else None
            notes.append(Note(f.severity, f.code, f.message, ws.title, cell, field_text(f.field, decl.profile)))
    apply(marks, notes, sheets)
    return _saved(wb)


def feedback_copies(path: str, rel: str, result: FileResult, options: FeedbackOptions) -> list[tuple[str, bytes]]:
    """The marked-up copies of one returned file: ``[(name under 反馈/ before bulk makes it safe, bytes)]``;
    none for a file without declarations (its problem is the file itself, said in the summary)."""
    if not result.declarations:
        return []
    if kept(rel):
        try:
            return [(rel, marked_copy(Path(path).read_bytes(), rel, result))]
        except Exception:  # openpyxl raises many types for what calamine reads: convert it instead
            pass
    groups: dict[str, list[tuple[Declaration, list[Finding]]]] = {}
    for d in result.declarations:
        groups.setdefault(d.declaration.profile, []).append((d.declaration, d.findings))
    base = rel if rel not in options.conflicts else _hashed(rel)
    if len(groups) == 1:
        return [(base + converted_suffix(), converted_copy(next(iter(groups.values()))))]
    return [(base + converted_suffix(profile), converted_copy(group)) for profile, group in groups.items()]


def name_digest(text: str) -> str:
    """16 hex digits of a name, for a stand-in name that must differ when the name does (any name: a lone
    surrogate included); bulk conversion's safe names use the same."""
    import hashlib

    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _hashed(rel: str) -> str:
    """A converted copy's base name when the plain one is taken: the input's name, ``~`` and a hash of it."""
    return f"{rel}~{name_digest(rel)}"


def copy_names(rel: str, profiles: Iterable[str]) -> list[str]:
    """Every name a copy of ``rel`` may take (before ``safe``), for clearing what an interrupted task left."""
    return [f"{base}{suffix}" for base in (rel, _hashed(rel)) for suffix in ("", *converted_suffixes(profiles))]
