"""The workplace's shared folder beside this clone: the foreign-workbook corpus and the strict spec checkers.

CI runs on a fresh clone with ``shared/`` beside it, so what lives there is used from there, not copied in.
Where it is missing outside CI the tests that need it are skipped with that reason; in CI they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("PERFGOAL_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CORPUS = Path(os.environ.get("PERFGOAL_CORPUS", SHARED / "corpus" / "foreign-workbooks"))
WORKBOOK_SUFFIXES = {".xls", ".xlsx", ".xlsm", ".xlsb", ".ods"}
CORPUS_FILES = sorted(p for p in CORPUS.iterdir() if p.suffix.lower() in WORKBOOK_SUFFIXES) \
    if CORPUS.is_dir() else []
# The tests that read the corpus: skipped where it is not beside the clone, run (and failing without it) in CI.
needs_corpus = pytest.mark.skipif(
    not CORPUS_FILES and not os.environ.get("CI"),
    reason=f"the shared corpus is not beside this clone ({CORPUS}); CI has it and runs this test")


def shared_tool(name: str) -> Path:
    """A tool of ``shared/tools`` (``cfb-strict-check``, ``ovba-strict-decompress``)."""
    path = SHARED / "tools" / name
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the shared tools must be beside the clone in CI: {path}")
        pytest.skip(f"the shared tools are not beside this clone ({path}); CI has them and runs this test")
    return path
