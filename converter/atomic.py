"""Writing outputs: atomically, and never over an input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)


class WouldOverwriteInput(Exception):
    """Raised when an output path is one of the inputs."""


def guard(output: Path, inputs: Iterable[Path]) -> None:
    out = output.resolve()
    for p in inputs:
        if p.resolve() == out:
            raise WouldOverwriteInput(str(output))


def write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename over it: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp's 0600 would hide results from colleagues
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)  # atomic for readers; no fsync: outputs can be rebuilt, and it costs ms per file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
