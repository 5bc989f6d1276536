"""Text in a worksheet cell as Excel lays it out: its width in Excel's column units (a CJK character takes
two), and the lines and row height it needs when wrapped in a column of a given width.

Excel and LibreOffice do not grow a row for wrapped text that a generated file leaves at the default height,
so the summary workbook and the 校验结果 sheet set each row's height from here.
"""

from __future__ import annotations

import math

LINE_POINTS = 15  # a row of 11-point text
MAX_LINES = 27  # Excel's tallest row (409 points)


def text_width(text: str) -> int:
    """Columns a text takes: UTF-8 spends three bytes on a CJK character and one on ASCII, so (bytes +
    characters) / 2 counts both without a look-up per character; the longest line counts."""
    if "\n" in text:
        return max(text_width(line) for line in text.split("\n"))
    if text.isascii():
        return len(text)
    return (len(text.encode("utf-8", "surrogatepass")) + len(text)) // 2


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` units wide (at most what a row can show)."""
    room = max(1.0, width - 1)
    return min(MAX_LINES, sum(max(1, math.ceil(text_width(line) / room)) for line in text.split("\n")))


def row_height(lines: int) -> float:
    return float(LINE_POINTS * lines)
