"""A grid of cell values: the one shape every file format is read into, and the one home of A1 references."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


def column_letter(col: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel letters → 0-based column index (A → 0, AA → 26); upper case only, as files spell them."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


@lru_cache(maxsize=65536)
def cell_ref(row: int, col: int) -> str:
    """0-based row and column → A1 reference. Remembered: every finding names its cell, and forms put theirs in
    the same places."""
    return f"{column_letter(col)}{row + 1}"


_CELL = re.compile(r"\$?([A-Z]{1,3})\$?([1-9]\d{0,6})")


def parse_cell(ref: str) -> tuple[int, int] | None:
    """A1 reference (``E2``, ``$E$2``) → 0-based (row, col); None for anything else."""
    m = _CELL.fullmatch(ref)
    return (int(m.group(2)) - 1, column_index(m.group(1))) if m else None


CellRange = tuple[int, int, int, int]  # 0-based inclusive (first_row, first_col, last_row, last_col)
_REF = re.compile(r"^(?:'?(?P<sheet>(?:[^']|'')+?)'?!)?\$?(?P<c1>[A-Z]{1,3})\$?(?P<r1>\d+)"
                  r"(?::\$?(?P<c2>[A-Z]{1,3})\$?(?P<r2>\d+))?$")


def parse_ref(text: str) -> tuple[str | None, CellRange] | None:
    """``'申报表'!$B$4`` or ``'申报表'!$A$18:$D$77`` → (sheet or None, 0-based inclusive range)."""
    m = _REF.match(text.strip().lstrip("="))
    if m is None:
        return None
    r1, c1 = int(m["r1"]) - 1, column_index(m["c1"])
    r2, c2 = (int(m["r2"]) - 1, column_index(m["c2"])) if m["c2"] else (r1, c1)
    return (m["sheet"].replace("''", "'") if m["sheet"] else None), (r1, c1, r2, c2)



_REF_TOKEN = re.compile(r"(?<![\w$.'])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![\w(])")
_QUOTED = re.compile(r'("[^"]*")')


@lru_cache(maxsize=256)
def _reference_parts(formula: str) -> tuple[tuple[str, ...], tuple[tuple[str, str, str, str], ...]]:
    """A formula cut into the text between its cell references and the references themselves, once: a shared
    formula is read again in every cell it is shared with, and a template's in every copy of it."""
    texts: list[str] = []
    refs: list[tuple[str, str, str, str]] = []
    pending = ""
    for i, part in enumerate(_QUOTED.split(formula)):
        if i % 2:
            pending += part
            continue
        pos = 0
        for m in _REF_TOKEN.finditer(part):
            texts.append(pending + part[pos:m.start()])
            refs.append((m.group(1), m.group(2), m.group(3), m.group(4)))
            pending, pos = "", m.end()
        pending += part[pos:]
    texts.append(pending)
    return tuple(texts), tuple(refs)


@lru_cache(maxsize=16384)
def shift_references(formula: str, rows: int, cols: int) -> str:
    """A formula as it reads ``rows`` down and ``cols`` right of where it was written: its relative references
    move, absolute ones (``$D$5``) and text in quotes stay — how a shared formula or a filled-down one reads."""
    texts, refs = _reference_parts(formula)
    out = [texts[0]]
    for (col_abs, col, row_abs, row), text in zip(refs, texts[1:], strict=True):
        # a formula filled down (cols 0, the common case) keeps its columns as written
        out.append(f"{col_abs}{col if col_abs or not cols else column_letter(column_index(col) + cols)}"
                   f"{row_abs}{row if row_abs or not rows else int(row) + rows}{text}")
    return "".join(out)


def absolute(ref: str) -> str:
    """``B5`` → ``$B$5``."""
    found = parse_cell(ref)
    if found is None:
        raise ValueError(f"not a cell reference: {ref}")
    return f"${column_letter(found[1])}${found[0] + 1}"


@dataclass(frozen=True, slots=True)
class ErrorValue:
    """A cell that holds one of Excel's error values (``#N/A``, ``#DIV/0!``): not blank, and no value either."""

    code: str


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula cell: the formula as typed (``=100%``) and the value the application last computed.

    A target typed ``=100%`` is stored by Excel as a formula; reading only its cached value would give ``1``
    (or nothing, when no application has computed it yet), so the grid keeps both and each field decides.
    A Formula is never a label (it is not a ``str``) and never blank.
    """

    text: str | None  # with its leading "=", as the user typed it; None where the file keeps no formula text (xls)
    value: Any  # the cached result as calamine reads it (None when none was stored)


@dataclass
class Grid:
    """Cell values of one sheet (or one text export), rows of equal meaning to the sheet's rows.

    ``origin`` is the 0-based (row, col) of ``rows[0][0]`` on the sheet, so references name the real cell.
    ``merged`` holds 0-based inclusive (first_row, first_col, last_row, last_col) ranges in sheet terms.
    """

    sheet: str | None
    rows: list[list[Any]]
    origin: tuple[int, int] = (0, 0)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)

    def value(self, r: int, c: int) -> Any:
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            return self.rows[r][c]
        return None

    def ref(self, r: int, c: int) -> str:
        return cell_ref(r + self.origin[0], c + self.origin[1])

    _by_col: tuple[int, int, dict[int, list[tuple[int, int, int]]], list[int]] | None = \
        field(default=None, init=False, repr=False, compare=False)

    def _merges(self) -> tuple[dict[int, list[tuple[int, int, int]]], list[int]]:
        """The merged ranges by first column (each column's in their order, as (first_row, last_row,
        last_col)) and the first columns in order: made once, as every label and every blank level cell asks.
        Made again if ``merged`` was replaced or grew."""
        index = self._by_col
        if index is None or index[0] != id(self.merged) or index[1] != len(self.merged):
            by_col: dict[int, list[tuple[int, int, int]]] = {}
            for r1, c1, r2, c2 in self.merged:
                by_col.setdefault(c1, []).append((r1, r2, c2))
            index = self._by_col = (id(self.merged), len(self.merged), by_col, sorted(by_col))
        return index[2], index[3]

    def merge_end_col(self, r: int, c: int) -> int:
        """Last column of the merged range that starts at (r, c), or c itself."""
        if not self.merged:
            return c
        sr = r + self.origin[0]
        for r1, r2, c2 in self._merges()[0].get(c + self.origin[1], ()):
            if r1 <= sr <= r2:
                return c2 - self.origin[1]
        return c

    def in_merged(self, r: int, c: int) -> bool:
        """Whether (r, c) lies in a merged range."""
        if not self.merged:
            return False
        sr, sc = r + self.origin[0], c + self.origin[1]
        by_col, firsts = self._merges()
        for c1 in firsts:
            if c1 > sc:
                break
            for r1, r2, c2 in by_col[c1]:
                if r1 <= sr <= r2 and sc <= c2:
                    return True
        return False


def is_blank(value: Any) -> bool:
    """An empty cell: None or whitespace. A Formula is never blank, whatever its cached value."""
    return value is None or (value.__class__ is str and not value.strip())
