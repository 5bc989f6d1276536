"""The legacy text export: forms copied out of the paper layout as tab-separated text."""

from __future__ import annotations

from .grid import Grid

ENCODINGS = ("utf-8-sig", "gb18030")
REPLACEMENT = "\ufffd"
# A few undecodable bytes in a real export (one pasted from elsewhere) are shown as � and reported at their
# cell; past this share of the text it is no export at all, but some binary file.
MAX_REPLACED = 0.001


def decode(data: bytes) -> str | None:
    """The text of an export, or None when it is no text in any expected encoding.

    UTF-16 is told by its byte-order mark, or without one by zero bytes standing every other byte; UTF-8 and
    GB18030 are tried strictly, then UTF-8 again with what does not decode replaced by �, when that is rare."""
    utf16 = _utf16(data)
    if utf16 is not None:
        return _acceptable(data.decode(utf16, errors="replace"), len(data) // 2)
    if data.count(b"\x00") > len(data) // 100:
        return None  # binary
    for enc in ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return _acceptable(data.decode("utf-8", errors="replace"), len(data))


def _utf16(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:4096]
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    # Tabs, line breaks and digits are a good share of any export: in UTF-16 each brings a zero byte, all on one
    # side; UTF-8 and GB18030 have none (a stray NUL or two is a control character, reported at its cell).
    if odd + even >= max(2, len(sample) // 20) and min(odd, even) * 10 <= max(odd, even):
        return "utf-16-le" if odd > even else "utf-16-be"
    return None


def _acceptable(text: str, size: int) -> str | None:
    return text if text.count(REPLACEMENT) <= max(8, size * MAX_REPLACED) else None


def grid_from_text(text: str) -> Grid:
    """Each line a row, each tab a cell; trailing line breaks of the file do not make rows."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    return Grid(sheet=None, rows=[[c if c != "" else None for c in line.split("\t")] for line in lines])
