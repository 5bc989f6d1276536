"""Reading an input file whole, within a limit, whatever it turns out to be.

A size from ``stat`` is a claim, not a bound: ``/proc`` files say 0 and hold text, a pipe or a device (``/dev/zero``)
has no end. Inputs are read only when they are regular files, and never past the limit plus one byte.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 64 * 1024 * 1024  # the largest input read (a workbook or a text export); larger ones are refused


class NotAFile(Exception):
    """The path is a device, a pipe, a socket or a folder: nothing to read as a form."""


class TooLarge(Exception):
    """The file holds more than the limit; ``size`` is what is known of it (at least the limit plus one)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes; ``NotAFile``, ``TooLarge``, or the ``OSError`` of opening it."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotAFile(str(path))
    if info.st_size > limit:
        raise TooLarge(info.st_size)
    with open(path, "rb") as fh:
        # Asked for the size stat gives (and one byte): a read of limit + 1 allocates that much first (64 MB for a
        # file of 15 KB, a third of reading it). A file longer than stat said (growing, or /proc's 0) reads on.
        want = info.st_size + 1
        data = fh.read(want)
        if len(data) == want and want <= limit:
            data += fh.read(limit + 1 - want)
    if len(data) > limit:
        raise TooLarge(len(data))
    return data
