"""A grid of cell values: the one shape every file format is read into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def column_letter(col: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """0-based row and column → A1 reference."""
    return f"{column_letter(col)}{row + 1}"


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

    def merge_end_col(self, r: int, c: int) -> int:
        """Last column of the merged range that starts at (r, c), or c itself."""
        if not self.merged:
            return c
        sr, sc = r + self.origin[0], c + self.origin[1]
        for r1, c1, r2, c2 in self.merged:
            if c1 == sc and r1 <= sr <= r2:
                return c2 - self.origin[1]
        return c


def is_blank(value: Any) -> bool:
    return value is None or (value.__class__ is str and not value.strip())
