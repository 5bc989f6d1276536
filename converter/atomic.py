"""Writing outputs: atomically, and never over an input."""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
import threading
from collections.abc import Iterable
from pathlib import Path


class WouldOverwriteInput(Exception):
    """Raised when an output path is one of the inputs."""


def guard(output: Path, inputs: Iterable[Path]) -> None:
    out = output.resolve()
    for p in inputs:
        if p.resolve() == out:
            raise WouldOverwriteInput(str(output))


def write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename over it: readers never see half a file.

    The temporary name carries process and thread, so parallel writers never share one. No fsync: outputs
    can be rebuilt from the inputs, and a sync per file would dominate bulk conversion.
    """
    tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        _put(tmp, data, "wb")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def create_bytes(path: Path, data: bytes) -> None:
    """Create a file in a folder that nobody reads until it is finished (see ``replace_dir``): no temporary
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


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries in one step (Linux ``renameat2``); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # a C library older than glibc 2.28
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    if ctypes.get_errno() in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system cannot swap
        return False
    err = ctypes.get_errno()
    raise OSError(err, os.strerror(err), str(b))


def replace_dir(staged: Path, target: Path) -> None:
    """Put a finished folder in place of ``target``: readers see the old folder or the new one, never a mix,
    and nothing of an earlier run is left behind in it.

    On Linux the two are swapped in one step. Elsewhere the old folder steps aside first, so for a moment
    there is no folder at all (never a half-filled one)."""
    if os.path.islink(target) or os.path.isfile(target):
        os.unlink(target)  # not something we wrote: our outputs there are folders
    if os.path.lexists(target):
        if _exchange(staged, target):
            shutil.rmtree(staged, ignore_errors=True)  # now the old folder; the new one is in place either way
            return
        old = target.with_name(f".{target.name}.{os.getpid()}.old")
        os.replace(target, old)
        try:
            os.replace(staged, target)
        except BaseException:
            os.replace(old, target)  # the earlier folder back where it was
            raise
        shutil.rmtree(old, ignore_errors=True)  # a file someone holds open (Windows) stays in a hidden folder
        return
    os.replace(staged, target)
