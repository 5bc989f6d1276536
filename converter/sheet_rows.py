"""The summary workbook's data rows as SpreadsheetML, rendered where the data is: in a bulk worker.

Writing the 汇总 and 问题清单 rows through XlsxWriter cost the parent of a bulk run more CPU than reading the
files did, and it cannot be spread over the workers (one workbook, one writer). So a worker renders its
file's rows as the XML of ``<row>`` elements, with ``ROW`` standing for the row number, and measures them
(column widths, cut cells, links); the parent only numbers the rows and splices them into the workbook that
XlsxWriter lays out (``summary.py``). The cells are written as XlsxWriter writes them in constant-memory mode
(inline strings, ``_xHHHH_`` escapes, whitespace preserved), with the styles at fixed indices (``STYLES``).

Row heights come from the wrapped text: Excel and LibreOffice do not grow a row for wrapped text that a
generated file leaves at the default height. Computed at a column's cap, a height holds at the final width
too: a column narrower than its cap holds no text longer than itself.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .feedback import cell_link
from .fields import HEADER
from .flat import printable as clean
from .readers.grid import column_letter
from .sheettext import MAX_LINES, row_height, text_width, wrapped_lines

ROW = "\x00"  # the row number, filled in by the parent; no cell text holds it (``clean`` output is XML text)
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

# How wide a column may grow before its text wraps, by heading (others: CAP); a heading wider than HEADING
# wraps rather than widening its column (amounts have long headings and short values).
CAPS = {"文件": 28, UNIT: 20, PROJECT: 24, "说明": 60, "字段": 18, "字段路径": 22, "工作表": 16, "JSON 文件": 24,
        "规则": 30}
CAP = 16
HEADING = 10
_WRAPPED = frozenset({"文件", UNIT, PROJECT, "说明", "字段", "规则", "工作表", "JSON 文件", "字段路径"})


@dataclass(frozen=True)
class Columns:
    """A data sheet's columns: headings, which hold amounts, how wide each may grow, which wrap."""

    header: tuple[str, ...]
    money: frozenset[int] = frozenset()
    caps: tuple[int, ...] = field(init=False)
    wrapped: tuple[bool, ...] = field(init=False)
    letters: tuple[str, ...] = field(init=False)
    starts: tuple[str, ...] = field(init=False)  # each column's cell as it begins: <c r="B\0"

    def __post_init__(self) -> None:
        object.__setattr__(self, "caps", tuple(CAPS.get(h, CAP) for h in self.header))
        object.__setattr__(self, "wrapped", tuple(h in _WRAPPED for h in self.header))
        object.__setattr__(self, "letters", tuple(column_letter(c) for c in range(len(self.header))))
        object.__setattr__(self, "starts", tuple(f'<c r="{letter}{ROW}"' for letter in self.letters))

    def heading_widths(self) -> list[int]:
        return [min(text_width(h), HEADING) + 2 for h in self.header]


# A link as the sheet needs it: column, the relationship's target and the ``location`` attribute (or ""), escaped.
Link = tuple[int, str, str]
# A rendered row: its XML (``ROW`` for the row number) and its links.
SheetRow = tuple[str, tuple[Link, ...]]
# A file's rows of one sheet as a worker hands them over: the rows, the widest text per column, which columns
# hold anything (a bit per column), cells cut at Excel's limit.
RenderedRows = tuple[list[SheetRow], list[int], int, int]


@functools.lru_cache(maxsize=256)
def link_parts(url: str) -> tuple[str, str]:
    """``external:dir/a.xlsx#'表'!D19`` → the relationship's target and the location attribute, as XlsxWriter makes them
    (its own parser, so a link reads the same as one it writes). A file's findings all link to it: cached."""
    from xlsxwriter.url import Url

    parsed = Url(url)
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


def xml_attribute(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", "&#xA;"))


class Rows:
    """Rows of one data sheet rendered for one file, with what the sheet needs to know of them: the widest text
    per column (up to its cap), which columns hold anything (``filled``, a bit per column), cut cells."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        self.rows: list[SheetRow] = []
        self.widths = [0] * len(columns.header)
        self.filled = 0
        self.cut = 0

    def text(self, value: str) -> str:
        """A cell's text as the sheet holds it: printable, and cut at Excel's limit with a mark saying so."""
        if value.isascii() and len(value) <= EXCEL_MAX_CHARS:  # most cells: nothing to do
            return value
        value = clean(value)
        if len(value) > EXCEL_MAX_CHARS // 2 and _utf16_len(value) > EXCEL_MAX_CHARS:
            self.cut += 1
            keep = EXCEL_MAX_CHARS - len(_CUT_MARK)
            value = value.encode("utf-16-le")[: 2 * keep].decode("utf-16-le", "ignore") + _CUT_MARK
        return value

    def add(self, row: Sequence[Any], links: dict[int, str] | None = None) -> list[Any]:
        """Render a row (values in the sheet's columns; links by column); returns the values as written."""
        columns = self.columns
        widths, caps, wrapped, money = self.widths, columns.caps, columns.wrapped, columns.money
        out = list(row)
        lines = 1
        filled = self.filled
        for c, value in enumerate(out):
            if value is None:
                continue
            filled |= 1 << c
            if isinstance(value, str):
                value = out[c] = self.text(value)
                bound = 2 * len(value) + 2  # two units a character at most
                if (bound > widths[c] and widths[c] < caps[c]) or (wrapped[c] and (bound > caps[c] or "\n" in value)):
                    width = text_width(value)
                    if widths[c] < caps[c] and width + 2 > widths[c]:
                        widths[c] = width + 2
                    if wrapped[c]:
                        lines = max(lines, _lines(value, width, caps[c]))
            elif c in money:
                widths[c] = max(widths[c], len(f"{float(value):,.2f}") + 2)
            else:
                widths[c] = max(widths[c], len(str(value)) + 2)
        self.filled = filled
        self.rows.append(render(columns, out, links, lines))
        return out

    def done(self) -> RenderedRows:
        return self.rows, self.widths, self.filled, self.cut


def _lines(text: str, width: int, cap: int) -> int:
    """``wrapped_lines`` for a text whose width is known."""
    if "\n" in text:
        return wrapped_lines(text, cap)
    return min(MAX_LINES, max(1, math.ceil(width / max(1.0, cap - 1))))


def render(columns: Columns, row: Sequence[Any], links: dict[int, str] | None, lines: int | None = None) -> SheetRow:
    """One row's XML: a row whose text wraps onto more lines gets its height and top-aligned, wrapping cells (the
    rest, most rows, are written without a format: half the size)."""
    caps, wrapped, starts = columns.caps, columns.wrapped, columns.starts
    if lines is None:
        lines = 1
        for c, value in enumerate(row):
            if wrapped[c] and isinstance(value, str):
                lines = max(lines, _lines(value, text_width(value), caps[c]))
    tall = lines > 1
    cells = []
    made: list[Link] = []
    for c, value in enumerate(row):
        if value is None:
            continue
        if isinstance(value, str):
            url = links.get(c) if links else None
            if url is not None:
                made.append((c, *link_parts(url)))
                s = _LINK_WRAP_S if tall else _LINK_S
            else:
                s = (_WRAP_S if wrapped[c] else _TOP_S) if tall else ""
            t = _T_SPACE if value[:1].isspace() or value[-1:].isspace() else "<t>"
            cells.append(f'{starts[c]}{s} t="inlineStr"><is>{t}{_xml_text(value)}</t></is></c>')
        elif c in columns.money:
            cells.append(f"{starts[c]}{_MONEY_S}><v>{float(value):.16G}</v></c>")
        else:
            cells.append(f"{starts[c]}{_TOP_S if tall else ''}><v>{value:.16G}</v></c>")
    if tall:
        return f'<row r="{ROW}" ht="{row_height(lines):g}" customHeight="1">{"".join(cells)}</row>', tuple(made)
    return f'<row r="{ROW}">{"".join(cells)}</row>', tuple(made)


_T_SPACE = '<t xml:space="preserve">'
_LINKED_CELL = re.compile(rf'<c r="([A-Z]+){ROW}" s="({_LINK}|{_LINK_WRAP})"')


def unlinked(columns: Columns, xml: str, dropped: set[int]) -> str:
    """A rendered row with the link cells of columns ``dropped`` styled as plain text: past Excel's links a
    sheet, a cell keeps its text without the link."""
    def plain(match: re.Match[str]) -> str:
        c = columns.letters.index(match[1])
        if c not in dropped:
            return match[0]
        if match[2] == str(_LINK):
            return f'<c r="{match[1]}{ROW}"'
        return f'<c r="{match[1]}{ROW}" s="{_WRAP if columns.wrapped[c] else _TOP}"'
    return _LINKED_CELL.sub(plain, xml)


def _utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


# ----------------------------------------------------------------------------------------------------------
# Links from the summary to the returned files
# ----------------------------------------------------------------------------------------------------------
def file_url(link_base: str | None, shown: str) -> str | None:
    """A link from the summary to a returned file, relative to the summary's folder; none for a name that is
    not the file's own (bytes shown as ``\\xNN``) or that a link cannot carry (``#``; a ``%`` XlsxWriter may take
    for an escape already made)."""
    if link_base is None or any(ch in shown for ch in "\\#%"):
        return None
    return f"external:{link_base}/{shown}" if link_base else f"external:{shown}"


def cell_url(link_base: str | None, shown: str, sheet: str | None, cell: str | None) -> str | None:
    base = file_url(link_base, shown)
    if base is None or not sheet or not cell:
        return None
    return f"{base}#{cell_link(sheet, cell)}"
