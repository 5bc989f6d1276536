"""Writing outputs: atomically, and never over an input."""

from __future__ import annotations

import os
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
        try:
            fh = open(tmp, "wb")
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(tmp, "wb")
        with fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
