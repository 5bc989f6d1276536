"""The summary workbook's data rows as SpreadsheetML, rendered where the data is: in a bulk worker.

Writing the 汇总 and 问题清单 rows through XlsxWriter cost the parent of a bulk run more CPU than reading the
files did, and it cannot be spread over the workers (one workbook, one writer). So a worker renders its
file's rows as the XML of ``<row>`` elements and measures them (column widths, cut cells, links); the parent
splices them into the workbook that XlsxWriter lays out (``summary.py``), the 问题清单 rows compressed by the
worker (``deflate.py``). The cells are written as XlsxWriter writes them in constant-memory mode (inline strings,
``_xHHHH_`` escapes, whitespace preserved), with the styles at fixed indices (``STYLES``).

Rows and cells carry no reference (``r``, optional in SpreadsheetML): a row is the one after the row before, a
cell the one after the cell before, an empty cell (``GAP``) standing for a column left blank. So a file's rows are
the same bytes wherever they land in the sheet, and a worker can compress them; only their links, which name their
cells, are numbered by the parent.

Row heights come from the wrapped text: Excel and LibreOffice do not grow a row for wrapped text that a
generated file leaves at the default height. Computed at a column's cap, a height holds at the final width
too: a column narrower than its cap holds no text longer than itself.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from .deflate import Piece, deflated
from .feedback import cell_link
from .fields import HEADER
from .flat import printable as clean
from .readers.grid import column_letter
from .sheettext import MAX_LINES, row_height, text_width, wrapped_lines

GAP = "<c/>"  # a column left blank: every column has its cell, so that a cell's place is its column
EXCEL_MAX_CHARS = 32_767  # UTF-16 code units in one cell
_CUT_MARK = "…（已截断）"
UNIT, PROJECT = HEADER["unit_name"].label, HEADER["project.name"].label

# The workbook's cell formats, in the order they are added: XlsxWriter numbers them 1, 2, … in that order
# (``SummaryWorkbook`` checks it), so a worker can name a style by index without the workbook.
STYLES: dict[str, dict[str, Any]] = {
    "bold": {"bold": True},
    "heading": {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1},
    "title": {"bold": True, "font_size": 14},
    "top": {"valign": "top"},
    "money": {"num_format": "#,##0.00", "valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "link": {"font_color": "#0563C1", "underline": 1, "valign": "top"},
    "link_wrap": {"font_color": "#0563C1", "underline": 1, "text_wrap": True, "valign": "top"},
}
STYLE = {name: index for index, name in enumerate(STYLES, start=1)}
_TOP, _MONEY, _WRAP, _LINK, _LINK_WRAP = (STYLE[n] for n in ("top", "money", "wrap", "link", "link_wrap"))
_TOP_S, _MONEY_S, _WRAP_S, _LINK_S, _LINK_WRAP_S = (f' s="{i}"' for i in (_TOP, _MONEY, _WRAP, _LINK, _LINK_WRAP))
_LINKED = (f"<c{_LINK_S}", f"<c{_LINK_WRAP_S}")  # a link's cell as it begins, in a row of one line or several

# How wide a column may grow before its text wraps, by heading (others: CAP); a heading wider than HEADING
# wraps rather than widening its column (amounts have long headings and short values).
CAPS = {"文件": 28, UNIT: 20, PROJECT: 24, "说明": 60, "字段": 18, "字段路径": 22, "工作表": 16, "JSON 文件": 24,
        "规则": 30}
CAP = 16
HEADING = 10
_WRAPPED = frozenset({"文件", UNIT, PROJECT, "说明", "字段", "规则", "工作表", "JSON 文件", "字段路径"})


# What a text makes in a sheet's column, whichever row it is in: the text as written (``_sheet_text``), whether it
# was cut, its width bound (two units a character, ``2 * len + 2``, never below its width + 2), its width + 2,
# whether it is measured in any case (a wrapped column's text that may take several lines), the lines it takes
# there, and its cell's XML after the format (``<c`` + format + this), with no format, and with its format in a
# row of several lines; last, what ``add_texts`` asks of a column in one number (``_stat``).
_Cell = tuple[str, int, int, int, bool, int, str, str, str, int]
# Texts remembered per column, then forgotten at once; longer texts are not remembered (they seldom repeat): a
# sheet's memory stays under 1.6 kB an entry (the text, its cell three ways), a few MB for the two data sheets.
_MEMO_TEXTS = 512
_MEMO_CHARS = 120


@dataclass(frozen=True)
class Columns:
    """A data sheet's columns: headings, which hold amounts, how wide each may grow, which wrap."""

    header: tuple[str, ...]
    money: frozenset[int] = frozenset()
    caps: tuple[int, ...] = field(init=False)
    wrapped: tuple[bool, ...] = field(init=False)
    letters: tuple[str, ...] = field(init=False)
    tall: tuple[str, ...] = field(init=False)  # each column's text cell's format in a row of several lines
    # What texts make in each column (``_Cell``), remembered across the rows and files a process renders: a
    # batch's findings repeat their file, unit, sheet, severity, code, cells and messages row after row, and its
    # forms the same cells and messages file after file. Bounded (``_MEMO_TEXTS``, ``_MEMO_CHARS``).
    memo: list[dict[str, _Cell]] = field(init=False, repr=False, compare=False)
    # Whether the last row rendered in these columns took several lines: the next is written so at first (a
    # batch's findings mostly do, with their paths and messages; ``Rows.add``).
    tall_last: list[bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "caps", tuple(CAPS.get(h, CAP) for h in self.header))
        object.__setattr__(self, "wrapped", tuple(h in _WRAPPED for h in self.header))
        object.__setattr__(self, "letters", tuple(column_letter(c) for c in range(len(self.header))))
        object.__setattr__(self, "tall", tuple(_WRAP_S if w else _TOP_S for w in self.wrapped))
        object.__setattr__(self, "memo", [{} for _ in self.header])
        object.__setattr__(self, "tall_last", [True])

    def heading_widths(self) -> list[int]:
        return [min(text_width(h), HEADING) + 2 for h in self.header]


# A link as the sheet needs it: column, the relationship's target and the ``location`` attribute (or ""), escaped.
Link = tuple[int, str, str]
# A rendered row: its XML and its links.
SheetRow = tuple[str, tuple[Link, ...]]
# A file's rows of one sheet as a worker hands them over: the rows, the widest text per column, which columns
# hold anything (a bit per column), cells cut at Excel's limit.
RenderedRows = tuple[list[SheetRow], list[int], int, int]
# The same, compressed (``packed``): the rows' XML as one piece (``deflate.py``), and each row's links.
PackedRows = tuple[Piece, list[tuple[Link, ...]], list[int], int, int]


def packed(rendered: RenderedRows) -> PackedRows:
    """A file's rows as a worker hands them over when there are many (its findings): compressed where the work
    spreads over the cores, not in the parent, and a tenth of the size on the pipe."""
    rows, widths, filled, cut = rendered
    return deflated("".join(xml for xml, _ in rows).encode()), [links for _, links in rows], widths, filled, cut


def link_parts(url: str) -> tuple[str, str] | None:
    """``external:dir/a.xlsx#'表'!D19`` → the relationship's target and the location attribute, as XlsxWriter makes them
    (its own parser, so a link reads the same as one it writes); None for a link Excel cannot hold (longer than
    its limit), whose cell keeps its text without it.

    A file's findings all link to it, each to another cell: the file's part is parsed once (``_file_target``),
    the cell's part is copied (XlsxWriter only turns ``/`` into ``\\`` there)."""
    if url.startswith("external:"):
        head, _, anchor = _external_path(url).partition("#")
        if len(head) >= 2 and len(anchor) <= _url_limit() // 2:  # else: as XlsxWriter tells (``_parsed_link``)
            target = _file_target(head)
            if target is None:
                return None
            if not anchor:
                return target, ""
            if _ATTRIBUTE_SPECIAL.search(anchor) is not None:
                anchor = xml_attribute(anchor)
            return target, f' location="{anchor}"'
    return _parsed_link(url)


def _external_path(url: str) -> str:
    """``external:dir/a.xlsx#…`` → ``dir\\a.xlsx#…``, as ``Url._parse_url`` makes it."""
    return url[9:].replace("file://", "", 1).replace("/", "\\")


@functools.cache
def _url_limit() -> int:
    """UTF-16 units a link's file part may take, and its cell part (imported late: XlsxWriter takes 0.1 s)."""
    from xlsxwriter.url import Url

    return int(Url.MAX_URL_LEN)


@functools.lru_cache(maxsize=256)
def _file_target(head: str) -> str | None:
    """A link's file part (``..\\dir\\a.xlsx``, at least two characters: XlsxWriter looks at two to tell a drive)
    as its relationship's target, escaped; None past Excel's limit."""
    parsed = _parsed_link(f"external:{head}")
    return parsed[0] if parsed is not None else None


def _parsed_link(url: str) -> tuple[str, str] | None:
    from xlsxwriter.url import Url

    try:
        parsed = Url(url)
    except (ValueError, IndexError):  # too long; a one-character name (XlsxWriter's drive test reads two)
        return None
    anchor = parsed._anchor
    return xml_attribute(parsed._target()), f' location="{xml_attribute(anchor)}"' if anchor else ""


_SPECIAL = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x")  # text that needs more than copying
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")


def _xml_text(text: str) -> str:
    """Cell text as XlsxWriter writes it: ``_xHHHH_`` taken literally, control characters escaped so, then XML's
    own escapes."""
    if not _SPECIAL.search(text):
        return text
    if "_x" in text:
        text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m[1]):04X}_", text)
    if "\ufffe" in text or "\uffff" in text:
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ATTRIBUTE_ESCAPES = {"&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;", "\n": "&#xA;"}  # "&" first
_ATTRIBUTE_SPECIAL = re.compile(f"[{''.join(_ATTRIBUTE_ESCAPES)}]")


def xml_attribute(text: str) -> str:
    for char, escape in _ATTRIBUTE_ESCAPES.items():
        text = text.replace(char, escape)
    return text


class Rows:
    """Rows of one data sheet rendered for one file, with what the sheet needs to know of them: the widest text
    per column (up to its cap), which columns hold anything (``filled``, a bit per column), cut cells.

    A file's findings repeat their file, unit, project, sheet, severity and code row after row: what a text
    makes in a column (``_Cell``) is worked out once (``Columns.memo``)."""

    def __init__(self, columns: Columns, remember: bool = True) -> None:
        self.columns = columns
        self.rows: list[SheetRow] = []
        self.widths = [0] * len(columns.header)
        self.filled = 0
        self.cut = 0
        # A process rendering a few rows of its own (the parent of a bulk run) remembers nothing: its memory stays
        # the same however many rows.
        self._memo = columns.memo if remember else [{} for _ in columns.header]
        self._last_link: list[tuple[str | None, tuple[str, str] | None]] = [(None, None)] * len(columns.header)

    def _cell(self, c: int, value: str) -> _Cell:
        if value.isascii() and len(value) <= EXCEL_MAX_CHARS:  # most cells: the text as it is, one unit a character
            text, cut = value, 0
            width = len(value) if "\n" not in value else text_width(value)
        else:
            text, cut = _sheet_text(value)
            width = text_width(text)
        columns = self.columns
        cap = columns.caps[c]
        bound = max(2 * len(text), width) + 2  # two units a character, but astral ones take 2.5
        if not columns.wrapped[c]:
            force, lines = False, 1
        elif "\n" in text:
            force, lines = True, wrapped_lines(text, cap)
        else:
            force, lines = bound > cap, 1 if width < cap else _lines(text, width, cap)
        t = _T_SPACE if text[:1].isspace() or text[-1:].isspace() else "<t>"
        body = f' t="inlineStr"><is>{t}{text if _SPECIAL.search(text) is None else _xml_text(text)}</t></is></c>'
        return (text, cut, bound, width + 2, force, lines, body, "<c" + body, "<c" + columns.tall[c] + body,
                _stat(width + 2, lines, cut))

    def add(self, row: Sequence[Any], links: dict[int, str] | None = None) -> list[Any]:
        """Render a row (values in the sheet's columns; links by column); returns the values as written.

        Whether the row takes several lines (and so its cells' formats) is known only at its end: the cells are
        written as the row before was, and again in the rare row that differs (``_cells``)."""
        return self._add(row, {c: self._link(c, url) for c, url in links.items()} if links else None)

    def _add(self, row: Sequence[Any], links: Mapping[int, tuple[str, str] | None] | None) -> list[Any]:
        """``add`` with its links as ``link_parts`` makes them."""
        columns = self.columns
        widths, caps, memo = self.widths, columns.caps, self._memo
        tall = columns.tall_last[0]
        out = list(row)
        lines = 1
        filled = self.filled
        pieces: list[str] = []
        made: list[Link] = []
        for c, value in enumerate(out):
            if value is None:
                pieces.append(GAP)
                continue
            filled |= 1 << c
            if isinstance(value, str):
                cell = memo[c].get(value) or self._text_cell(c, value, memo[c])
                if cell[1]:
                    self.cut += 1
                out[c] = cell[0]
                w = widths[c]
                if cell[4] or (cell[2] > w and w < caps[c]):  # measured (two units a character bound the width)
                    if w < caps[c] and cell[3] > w:
                        widths[c] = cell[3]
                    if cell[5] > lines:
                        lines = cell[5]
                if links and c in links:
                    parts = links[c]
                    if parts is not None:
                        made.append((c, *parts))
                        pieces.append(_LINKED[tall] + cell[6])
                        continue
                pieces.append(cell[8] if tall else cell[7])
            elif c in columns.money:
                widths[c] = max(widths[c], len(f"{float(value):,.2f}") + 2)
                pieces.append(f"<c{_MONEY_S}><v>{float(value):.16G}</v></c>")
            else:
                widths[c] = max(widths[c], len(str(value)) + 2)
                pieces.append(f"<c{_TOP_S if tall else ''}><v>{value:.16G}</v></c>")
        self.filled = filled
        if (lines > 1) != tall:
            tall = columns.tall_last[0] = lines > 1
            pieces = self._cells(out, {c for c, _, _ in made}, tall)
        if tall:
            xml = f'<row ht="{row_height(lines):g}" customHeight="1">{"".join(pieces)}</row>'
        else:
            xml = f'<row>{"".join(pieces)}</row>'
        self.rows.append((xml, tuple(made)))
        return out

    def add_texts(self, rows: Sequence[Sequence[str | None]],
                  links: Mapping[int, Sequence[tuple[str, str] | None]] | None = None) -> None:
        """Rows, each rendered as ``add`` renders it; rows of text (or nothing) a column at a time: a file's
        hundreds of findings would otherwise cost a dozen steps a cell. ``links`` gives, for a linked column, each
        row's link as ``link_parts`` makes it (None: none). Each column's texts are looked up in C (``map``); what
        ``add`` works out as the rows pass (the widths, the lines a row takes) is worked out on the column, by the
        same rule (``_grown``)."""
        n = len(rows)
        table = None
        if n >= _FEW_ROWS:  # (a few rows cost less one by one)
            try:
                table = [(column, self._column_cells(c, column))
                         for c, column in enumerate(zip(*rows, strict=True))]
            except (TypeError, ValueError):  # a value that is not text, rows of other lengths: as ``add`` takes them
                table = None
        if table is None:
            for i, row in enumerate(rows):
                self._add(row, {c: these[i] for c, these in links.items()} if links else None)
            return
        columns = self.columns
        lines: list[int] = [1] * n
        many: list[list[int]] = []  # the lines of each cell, in the columns where some cell takes several
        widths, caps = self.widths, columns.caps
        for c, (_, cells) in enumerate(table):
            stat = max(map(_STAT, cells))
            if stat:  # a text's cell counts at least 2 (its width + 2); nothing's 0
                self.filled |= 1 << c
            width, cap = widths[c], caps[c]
            if stat < _ODD:  # the common column: its widest text tells all
                if width < cap and stat > width:
                    widths[c] = stat if stat < cap else next(w for w in map(_WIDTH, cells) if w >= cap)
            else:
                if stat >= _CUT_BIT:  # some cell cut
                    self.cut += sum(map(_CUT, cells))
                widths[c] = _grown(width, cap, cells, many)
        if many:
            lines[:] = map(max, lines, *many)
        # Each row's cells as a row of its height writes them: ``_Cell[7]`` in a row of one line, else ``[8]``.
        talls = [height > 1 for height in lines]
        kinds = [_TALL_AT if tall else _SHORT_AT for tall in talls]
        pieces: list[Iterable[str]] = [list(map(_ROW_START.__getitem__, lines))]
        made: list[list[Link | None]] = []
        for c, (column, cells) in enumerate(table):
            texts: list[str] = list(map(operator.getitem, cells, kinds))  # type: ignore[arg-type]
            parts = links.get(c) if links else None
            if parts is not None:
                made.append(self._linked(c, column, cells, parts, talls, texts))
            pieces.append(texts)
        pieces.append(itertools.repeat("</row>", n))
        xml = map("".join, zip(*pieces, strict=False))  # the closing tags repeated without end
        if not made:
            self.rows.extend(zip(xml, itertools.repeat((), n), strict=True))
        elif all(None not in m for m in made):
            self.rows.extend(zip(xml, zip(*made, strict=True), strict=True))
        else:
            self.rows.extend(zip(xml, (tuple(x for x in row if x is not None) for row in zip(*made, strict=True)),
                                 strict=True))

    def _column_cells(self, c: int, column: Sequence[str | None]) -> list[_Cell]:
        """What each text of a column makes (``_Cell``; ``_NO_CELL`` for nothing), remembered as ``add`` does."""
        seen = self._memo[c]
        found: list[_Cell | None] = list(map(seen.get, column))  # type: ignore[arg-type]
        if None not in found:  # every text remembered
            return cast(list[_Cell], found)
        cells = []
        for value, cell in zip(column, found, strict=True):
            if cell is None:
                if value is None:
                    cell = _NO_CELL
                elif isinstance(value, str):
                    cell = self._text_cell(c, value, seen)
                else:
                    raise TypeError(f"not text: {value!r}")
            cells.append(cell)
        return cells

    def _linked(self, c: int, column: Sequence[str | None], cells: list[_Cell], parts: Sequence[tuple[str, str] | None],
                talls: list[bool], texts: list[str]) -> list[Link | None]:
        """A linked column's links (a text's only), its cells in ``texts`` styled as links where they have one."""
        if None not in parts and None not in column:  # every row linked: all in C
            texts[:] = map(operator.add, map(_LINKED.__getitem__, talls), map(_BODY, cells))
            if parts[0] is parts[-1] and parts.count(parts[0]) == len(parts):  # the file's: one tuple, pickled once
                return [(c, *cast(tuple[str, str], parts[0]))] * len(parts)
            return list(zip(itertools.repeat(c), *zip(*cast(Sequence[tuple[str, str]], parts), strict=True),
                            strict=False))
        made: list[Link | None] = []
        for i, (value, these) in enumerate(zip(column, parts, strict=True)):
            if these is None or value is None:
                made.append(None)
                continue
            made.append((c, *these))
            texts[i] = _LINKED[talls[i]] + cells[i][6]
        return made

    def _text_cell(self, c: int, value: str, seen: dict[str, _Cell]) -> _Cell:
        cell = seen.get(value)
        if cell is None:
            cell = self._cell(c, value)
            if len(value) <= _MEMO_CHARS:
                if len(seen) >= _MEMO_TEXTS:
                    seen.clear()
                seen[value] = cell
        return cell

    def _link(self, c: int, url: str) -> tuple[str, str] | None:
        """``link_parts``, remembered for the column's last link: a file's findings all link to the file."""
        last, parts = self._last_link[c]
        if url != last:
            parts = link_parts(url)
            self._last_link[c] = url, parts
        return parts

    def _cells(self, out: Sequence[Any], linked: set[int], tall: bool) -> list[str]:
        """A row's cells (its values as written) in a row of one line or of several."""
        columns, memo = self.columns, self._memo
        pieces = []
        for c, value in enumerate(out):
            if value is None:
                pieces.append(GAP)
                continue
            if isinstance(value, str):
                cell = self._text_cell(c, value, memo[c])
                if c in linked:
                    pieces.append(_LINKED[tall] + cell[6])
                else:
                    pieces.append(cell[8] if tall else cell[7])
            elif c in columns.money:
                pieces.append(f"<c{_MONEY_S}><v>{float(value):.16G}</v></c>")
            else:
                pieces.append(f"<c{_TOP_S if tall else ''}><v>{value:.16G}</v></c>")
        return pieces

    def done(self) -> RenderedRows:
        return self.rows, self.widths, self.filled, self.cut


def _stat(width: int, lines: int, cut: int) -> int:
    """A cell's width (+2), past ``_ODD`` if it takes several lines or was cut (``_grown``)."""
    return width | (_MANY if lines > 1 else 0) | (_CUT_BIT if cut else 0)


# Past any cell's width (Excel's 32,767 characters, 2.5 units at most). A column's cells are asked their largest
# ``_stat``, not each one: a flag tells of all the column's cells only as the highest set, so those are ordered.
_ODD = 1 << 20
_MANY, _CUT_BIT = _ODD, _ODD << 1  # some cell takes several lines; is cut
# A column's cells as ``add_texts`` takes them apart; a cell with nothing (``_NO_CELL``) adds nothing to its row.
_NO_CELL: _Cell = ("", 0, 0, 0, False, 1, "", GAP, GAP, 0)
_CUT, _WIDTH, _LINES, _BODY, _STAT = (operator.itemgetter(i) for i in (1, 3, 5, 6, 9))
_SHORT_AT, _TALL_AT = 7, 8
_FEW_ROWS = 12  # fewer rows cost less one by one (measured: the same at 12)
_ROW_START = ("", "<row>", *(f'<row ht="{row_height(n):g}" customHeight="1">'
                             for n in range(2, MAX_LINES + 1)))  # by the lines a row takes


def _grown(width: int, cap: int, cells: list[_Cell], many: list[list[int]]) -> int:
    """A column's width after its ``cells`` pass ``add`` one by one from ``width``, with the lines each takes in
    its row added to ``many``.

    ``add`` measures a cell that may take several lines (``_Cell[4]``) and, below the cap, one whose bound
    exceeds the width so far; it widens the column to a measured cell's width (+2) below the cap. A cell's width
    is within its bound, so it is measured whenever it could widen the column, and takes several lines only if
    measured in any case: the width is the running maximum up to the first at or past the cap, and the lines are
    each cell's own."""
    column_lines = list(map(_LINES, cells))
    if max(column_lines) > 1:
        many.append(column_lines)
    if width >= cap:
        return width
    widths: list[int] = list(map(_WIDTH, cells))
    most = max(widths)
    if most <= width:
        return width
    if most < cap:
        return most
    return next(w for w in widths if w >= cap)


def _sheet_text(value: str) -> tuple[str, int]:
    """A cell's text as the sheet holds it: printable, and cut at Excel's limit with a mark saying so (and 1
    for a cut)."""
    if value.isascii() and len(value) <= EXCEL_MAX_CHARS:  # most cells: nothing to do
        return value, 0
    value = clean(value)
    if len(value) > EXCEL_MAX_CHARS // 2 and _utf16_len(value) > EXCEL_MAX_CHARS:
        keep = EXCEL_MAX_CHARS - len(_CUT_MARK)
        return value.encode("utf-16-le")[: 2 * keep].decode("utf-16-le", "ignore") + _CUT_MARK, 1
    return value, 0


def _lines(text: str, width: int, cap: int) -> int:
    """``wrapped_lines`` for a text whose width is known."""
    if "\n" in text:
        return wrapped_lines(text, cap)
    return min(MAX_LINES, max(1, math.ceil(width / max(1.0, cap - 1))))


def render(columns: Columns, row: Sequence[Any], links: dict[int, str] | None) -> SheetRow:
    """One row's XML: a row whose text wraps onto more lines gets its height and top-aligned, wrapping cells (the
    rest, most rows, are written without a format: half the size). The plain way, for a row rendered once (a
    held 汇总 row amended by the cross-file findings); ``Rows.add``, which remembers texts, must agree with it."""
    caps, wrapped = columns.caps, columns.wrapped
    lines = 1
    for c, value in enumerate(row):
        if wrapped[c] and isinstance(value, str):
            lines = max(lines, _lines(value, text_width(value), caps[c]))
    tall = lines > 1
    cells = []
    made: list[Link] = []
    for c, value in enumerate(row):
        if value is None:
            cells.append(GAP)
            continue
        if isinstance(value, str):
            url = links.get(c) if links else None
            parts = link_parts(url) if url is not None else None
            if parts is not None:
                made.append((c, *parts))
                s = _LINK_WRAP_S if tall else _LINK_S
            else:
                s = (_WRAP_S if wrapped[c] else _TOP_S) if tall else ""
            t = _T_SPACE if value[:1].isspace() or value[-1:].isspace() else "<t>"
            cells.append(f'<c{s} t="inlineStr"><is>{t}{_xml_text(value)}</t></is></c>')
        elif c in columns.money:
            cells.append(f"<c{_MONEY_S}><v>{float(value):.16G}</v></c>")
        else:
            cells.append(f"<c{_TOP_S if tall else ''}><v>{value:.16G}</v></c>")
    if tall:
        return f'<row ht="{row_height(lines):g}" customHeight="1">{"".join(cells)}</row>', tuple(made)
    return f'<row>{"".join(cells)}</row>', tuple(made)


_T_SPACE = '<t xml:space="preserve">'
_CELL_START = re.compile(r"<c(?=[ />])")  # a cell's start (text in a cell is escaped: it holds no "<")
_LINK_STYLE = re.compile(f' s="(?:{_LINK}|{_LINK_WRAP})"')


def unlinked(columns: Columns, xml: str, dropped: set[int]) -> str:
    """A rendered row with the link cells of columns ``dropped`` styled as plain text: past Excel's links a
    sheet, a cell keeps its text without the link. Cells are found by their place in the row (no references)."""
    parts = _CELL_START.split(xml)  # the row's start, then each column's cell from "<c" on, in order
    for c in dropped:
        cell = parts[c + 1]
        style = _LINK_STYLE.match(cell)
        if style is not None:
            plain = "" if style[0] == _LINK_S else columns.tall[c]
            parts[c + 1] = plain + cell[style.end():]
    return "<c".join(parts)


_LINK_START = re.compile(f'<c({_LINK_S}|{_LINK_WRAP_S})'.encode())


def all_unlinked(columns: Columns, text: bytes, row_links: Iterable[Sequence[Link]]) -> bytes | None:
    """Rows (a piece's text) with every link cell styled as plain text, in one pass: ``unlinked`` for rows that
    all come past the sheet's last link. A cell has a link's style only where it has a link (a text holds no
    "<": escaped), so the link cells, found in the text, are the rows' links in order (``Rows`` gives a row's
    links in column order), and each link says its cell's column. None where the two do not match (then row by
    row)."""
    parts = _LINK_START.split(text)  # text, a link cell's style, text, …
    linked = [c for links in row_links for c, _, _ in links]
    if len(parts) != 2 * len(linked) + 1:
        return None
    one_line = _LINK_S.encode()
    several = [f"<c{s}".encode() for s in columns.tall]
    parts[1::2] = [b"<c" if s == one_line else several[c] for s, c in zip(parts[1::2], linked, strict=True)]
    return b"".join(parts)


def _utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


# ----------------------------------------------------------------------------------------------------------
# Links from the summary to the returned files
# ----------------------------------------------------------------------------------------------------------
# What a link's file part cannot carry: a "#" ends it, a "%" XlsxWriter may take for an escape already made, a
# backslash is a separator (in a name shown, it stands for a byte that is not UTF-8: ``\\xNN``).
UNLINKABLE = re.compile(r"[#%\\]")


def file_url(link_base: str | None, shown: str) -> str | None:
    """A link from the summary to a returned file, relative to the summary's folder (``link_base``, checked as
    ``bulk.link_base`` makes it); none for a name a link cannot carry (``UNLINKABLE``)."""
    if link_base is None or UNLINKABLE.search(shown):
        return None
    return f"external:{link_base}/{shown}" if link_base else f"external:{shown}"


def cell_url(link_base: str | None, shown: str, sheet: str | None, cell: str | None) -> str | None:
    base = file_url(link_base, shown)
    if base is None or not sheet or not cell:
        return None
    return f"{base}#{cell_link(sheet, cell)}"


class FileLinks:
    """One file's links as ``link_parts`` makes them, to the file (``file``) and into its cells (``cell``): a
    file's findings each link to a cell of it, so the file's part is worked out once and a cell's link is its
    escaped reference. Where that would not be exactly ``link_parts(cell_url(…))`` (a ``/`` or ``#`` that
    XlsxWriter's parser reads, a reference past Excel's limit), the URL is parsed as ``link_parts`` does."""

    def __init__(self, link_base: str | None, shown: str) -> None:
        self.url = file_url(link_base, shown)
        self.file = link_parts(self.url) if self.url is not None else None
        head = _external_path(self.url) if self.url is not None else ""
        # The cells' links share the file's target when the URL holds no "#" before theirs: as link_parts reads it.
        self._plain = self.url is not None and "#" not in self.url and len(head) >= 2
        self._target = _file_target(head) if self._plain else None

    def cells(self, sheet: str | None, cells: Sequence[str | None]) -> list[tuple[str, str] | None]:
        """``cell`` for each of ``cells`` on one sheet: the sheet's part of the reference worked out once, and the
        cells' own parts (``D19``) checked together, in C."""
        if self.url is None or not sheet or not cells:
            return [None] * len(cells)
        sheet_part = cell_link(sheet, "")  # a cell's reference without the cell
        joined = "".join(cast(Sequence[str], cells)) if None not in cells and "" not in cells else "/"
        if (not self._plain or "/" in sheet_part or "/" in joined
                or len(sheet_part) + max(map(len, cells)) > _url_limit() // 2  # type: ignore[arg-type]
                or _ATTRIBUTE_SPECIAL.search(joined) is not None):
            return [self.cell(sheet, cell) for cell in cells]
        if self._target is None:
            return [None] * len(cells)
        if _ATTRIBUTE_SPECIAL.search(sheet_part) is not None:
            sheet_part = xml_attribute(sheet_part)
        head = f' location="{sheet_part}'
        return list(zip(itertools.repeat(self._target), [f'{head}{cell}"' for cell in cells]))

    def cell(self, sheet: str | None, cell: str | None) -> tuple[str, str] | None:
        """``link_parts(cell_url(link_base, shown, sheet, cell))``."""
        if self.url is None or not sheet or not cell:
            return None
        anchor = cell_link(sheet, cell)
        if not self._plain or "/" in anchor or len(anchor) > _url_limit() // 2:
            return link_parts(f"{self.url}#{anchor}")
        if self._target is None:
            return None
        if _ATTRIBUTE_SPECIAL.search(anchor) is not None:
            anchor = xml_attribute(anchor)
        return self._target, f' location="{anchor}"'
