"""Writing outputs: atomically, never over an input, and several outputs published together."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path


class WouldOverwriteInput(Exception):
    """Raised when an output path is one of the inputs."""


def guard(output: Path, inputs: Iterable[Path]) -> None:
    out = output.resolve()
    for p in inputs:
        if p.resolve() == out:
            raise WouldOverwriteInput(str(output))


class NotARegularFile(OSError):
    """An output path that holds something other than a file: a device, a pipe, a folder, a link to one."""

    phrase = "目标位置已有不是普通文件的东西（设备、管道、文件夹或指向它们的链接），不会覆盖"

    def __init__(self, path: Path) -> None:
        super().__init__(errno.EEXIST, "not a regular file", str(path))


def output_path(path: Path) -> Path:
    """Where an output to ``path`` goes: the path when it is new or a regular file, the file a link leads to
    (written through, the link kept); anything else is refused — replacing it would destroy what we did not
    write (``-o /dev/null`` would replace the device)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    if stat.S_ISREG(mode):
        return path
    if stat.S_ISLNK(mode):
        real = Path(os.path.realpath(path))
        try:
            if stat.S_ISREG(os.stat(real).st_mode):
                return real
        except FileNotFoundError:
            return real  # a link to a file not yet written: write it
    raise NotARegularFile(path)


def write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename over it: readers never see half a file.

    The temporary name carries process and thread, so parallel writers never share one, and is short, so a
    target name near the system's limit still has room for it. No fsync: outputs can be rebuilt from the
    inputs, and a sync per file would dominate bulk conversion.
    """
    path = output_path(path)
    tmp = path.parent / f".perfgoal-{os.getpid()}-{threading.get_ident() % 1_000_000}.tmp"
    try:
        _put(tmp, data, "wb")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def create_bytes(path: Path, data: bytes) -> None:
    """Create a file in a folder that nobody reads until it is finished (see ``publish``): no temporary
    name and no rename per file, which on a slow disk is a good part of writing a thousand small files."""
    _put(path, data, "xb")


def _put(path: Path, data: bytes, mode: str) -> None:
    """Write ``data`` to ``path``, making its folder only when it is missing (one failed open, not a stat
    per file)."""
    try:
        fh = open(path, mode)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, mode)
    with fh:
        fh.write(data)


# ----------------------------------------------------------------------------------------------------------
# Publishing several outputs together
# ----------------------------------------------------------------------------------------------------------
def publish(staged: Path, target: Path, names: Sequence[str], aside: Path) -> None:
    """Move ``staged/<name>`` to ``target/<name>`` for every name, all or none: a reader of ``target`` finds
    the earlier set or the new one, never one file of each (files and folders alike).

    The earlier entries step aside into ``aside`` first, then the new ones move in; every step is a rename
    within one folder tree, so it needs no disk space. If a step fails (a file held open on Windows, say),
    everything is moved back and the error raised. ``aside`` exists only while a publication is under way:
    if the process is killed inside one, ``roll_back`` (run by the next caller) puts the earlier set back."""
    aside.mkdir()
    try:
        for name in names:
            if os.path.lexists(target / name):
                os.replace(target / name, aside / name)
        for name in names:
            os.replace(staged / name, target / name)
    except BaseException:
        roll_back(staged, target, names, aside)
        raise
    done = aside.with_name(aside.name + ".done")
    os.replace(aside, done)  # the commit: from here on the new set stands
    shutil.rmtree(done, ignore_errors=True)


def roll_back(staged: Path, target: Path, names: Sequence[str], aside: Path) -> None:
    """Undo an unfinished ``publish``: what moved in goes back to ``staged``, what stepped aside returns.

    Stateless, so that it works as well after a crash: an entry missing from ``staged`` was moved in (every
    name is staged before a publication starts)."""
    if not aside.is_dir():
        return
    for name in names:
        if not os.path.lexists(staged / name) and os.path.lexists(target / name):
            os.replace(target / name, staged / name)
    for name in names:
        if os.path.lexists(aside / name):
            os.replace(aside / name, target / name)
    shutil.rmtree(aside, ignore_errors=True)
