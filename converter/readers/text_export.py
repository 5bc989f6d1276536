"""The legacy text export: forms copied out of the paper layout as tab-separated text."""

from __future__ import annotations

from .grid import Grid

ENCODINGS = ("utf-8-sig", "gb18030", "utf-16")


def decode(data: bytes) -> str | None:
    """The text of an export, or None when it does not decode as text in any expected encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    for enc in ENCODINGS[:2]:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def grid_from_text(text: str) -> Grid:
    """Each line a row, each tab a cell; trailing line breaks of the file do not make rows."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    return Grid(sheet=None, rows=[[c if c != "" else None for c in line.split("\t")] for line in lines])
