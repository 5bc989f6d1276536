"""The thin interface the ribbon handlers use to reach a workbook and the user, and its two implementations.

``OpenpyxlBook`` works on a workbook file (tests, and batch use without Excel); ``XlwingsBook`` and
``ExcelUI`` work on the workbook open in desktop Excel, through xlwings. The handlers see only the protocols,
so everything they decide is tested on real files; only the last step into Excel is not run here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, Protocol

from converter.feedback import FILLS, OpenpyxlMarks
from converter.findings import Severity
from converter.readers.grid import CellRange, Grid, parse_ref

from .ribbon_spec import TITLE


class FileKind(NamedTuple):
    """A kind of file the user picks in a dialog: what it is called, and its pattern (``*.json``)."""

    description: str
    pattern: str

    def excel_filter(self) -> str:
        """Excel's FileFilter argument: pairs of description and pattern, separated by commas
        (``JSON 文件 (*.json),*.json``); a comma inside the description would start a new pair."""
        if "," in self.description or "," in self.pattern:
            raise ValueError(f"a comma in a file filter splits it: {self}")
        return f"{self.description} ({self.pattern}),{self.pattern}"


class Book(Protocol):
    """A workbook as the handlers need it."""

    @property
    def name(self) -> str: ...
    def sheet_names(self) -> list[str]: ...
    def active_sheet(self) -> str: ...
    def grid(self, sheet: str) -> Grid: ...
    def names(self, sheet: str) -> dict[str, CellRange]: ...
    def mark(self, sheet: str, cell: str, severity: Severity | None, note: str | None) -> None: ...
    def write_sheet(self, title: str, rows: list[list[Any]], links: dict[tuple[int, int], str]) -> None: ...
    def read_sheet(self, title: str) -> list[list[Any]] | None: ...


class UI(Protocol):
    """What the handlers ask of the person at the keyboard."""

    def choose_save(self, suggested: str, kind: FileKind) -> str | None: ...
    def choose_open(self, kind: FileKind) -> str | None: ...
    def choose_folder(self, title: str) -> str | None: ...
    def open_workbook(self, path: str) -> None: ...
    def alert(self, text: str) -> None: ...


class OpenpyxlBook(OpenpyxlMarks):
    """A workbook file, edited with openpyxl; ``save`` writes it back atomically. Reading forms and marking
    them are ``OpenpyxlMarks``'s, the same code that marks the copies ``perfgoal bulk --feedback`` writes."""

    def __init__(self, path: str | Path, active: str | None = None) -> None:
        import openpyxl

        self.path = Path(path)
        super().__init__(openpyxl.load_workbook(self.path))
        if active is not None:
            self.wb.active = self.wb.sheetnames.index(active)

    @property
    def name(self) -> str:
        return self.path.name

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def active_sheet(self) -> str:
        ws = self.wb.active
        assert ws is not None
        return str(ws.title)

    def save(self) -> None:
        import io

        from converter.atomic import write_bytes

        raw = io.BytesIO()
        self.wb.save(raw)
        write_bytes(self.path, raw.getvalue())


class XlwingsBook:  # pragma: no cover - needs desktop Excel; the handlers are tested through OpenpyxlBook
    """The workbook open in Excel, through xlwings."""

    def __init__(self, book: Any) -> None:
        self.book = book

    @property
    def name(self) -> str:
        return str(self.book.name)

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def active_sheet(self) -> str:
        return str(self.book.sheets.active.name)

    def grid(self, sheet: str) -> Grid:
        used = self.book.sheets[sheet].used_range
        values = used.options(ndim=2).value or []
        merged: list[tuple[int, int, int, int]] = []
        return Grid(sheet=sheet, rows=[[None if v == "" else v for v in r] for r in values],
                    origin=(used.row - 1, used.column - 1), merged=merged)

    def names(self, sheet: str) -> dict[str, CellRange]:
        out = {}
        for n in self.book.names:
            local, _, bare = str(n.name).rpartition("!")
            if local.strip("'") not in ("", sheet):
                continue
            parsed = parse_ref(str(n.refers_to))
            if parsed is not None and (parsed[0] in (None, sheet)):
                out[bare] = parsed[1]
        return out

    def mark(self, sheet: str, cell: str, severity: Severity | None, note: str | None) -> None:
        """A cell inside a merged range marks the range: filled whole, its comment on the first cell (the one
        Excel shows), as ``OpenpyxlMarks`` marks a file."""
        area = self.book.sheets[sheet].range(cell).merge_area  # the cell itself where it is not merged
        color = FILLS.get(severity) if severity is not None else None
        area.color = tuple(int(color[i:i + 2], 16) for i in (0, 2, 4)) if color else None
        area.api.ClearComments()
        if note:
            area[0].api.AddComment(note)

    def write_sheet(self, title: str, rows: list[list[Any]], links: dict[tuple[int, int], str]) -> None:
        names = self.sheet_names()
        ws = self.book.sheets[title] if title in names else self.book.sheets.add(title, after=self.book.sheets[-1])
        ws.clear()
        ws.range("A1").options(ndim=2).value = [[("'" + v) if isinstance(v, str) and v[:1] in "=+-@" else v
                                                for v in row] for row in rows]
        for (r, c), target in links.items():
            anchor = ws.range((r + 1, c + 1))
            ws.api.Hyperlinks.Add(Anchor=anchor.api, Address="", SubAddress=target, TextToDisplay=anchor.value)
        ws.range("1:1").font.bold = True
        ws.autofit()

    def read_sheet(self, title: str) -> list[list[Any]] | None:
        if title not in self.sheet_names():
            return None
        value = self.book.sheets[title].used_range.options(ndim=2).value
        return list(value or [])


class ExcelUI:  # pragma: no cover - needs desktop Excel
    """Excel's own dialogs and message box."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def choose_save(self, suggested: str, kind: FileKind) -> str | None:
        # (InitialFilename, FileFilter, FilterIndex, Title); Cancel returns False, not a string.
        answer = self.app.api.GetSaveAsFilename(suggested, kind.excel_filter(), 1, TITLE)
        return answer if isinstance(answer, str) and answer else None

    def choose_open(self, kind: FileKind) -> str | None:
        answer = self.app.api.GetOpenFilename(kind.excel_filter(), 1, TITLE)  # (FileFilter, FilterIndex, Title)
        return answer if isinstance(answer, str) and answer else None

    def choose_folder(self, title: str) -> str | None:
        dialog = self.app.api.FileDialog(4)  # msoFileDialogFolderPicker
        dialog.Title = title
        return str(dialog.SelectedItems(1)) if dialog.Show() == -1 else None

    def open_workbook(self, path: str) -> None:
        self.app.books.open(path)

    def alert(self, text: str) -> None:
        self.app.alert(text, title=TITLE)
