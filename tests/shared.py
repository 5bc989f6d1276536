"""The workplace's shared folder beside this clone: the foreign-workbook corpus and the strict spec checkers.

CI runs on a fresh clone with ``shared/`` beside it, so what lives there is used from there, not copied in.
Where it is missing outside CI the tests that need it are skipped with that reason; in CI they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("PERFGOAL_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def shared_tool(name: str) -> Path:
    """A tool of ``shared/tools`` (``cfb-strict-check``, ``ovba-strict-decompress``)."""
    path = SHARED / "tools" / name
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the shared tools must be beside the clone in CI: {path}")
        pytest.skip(f"the shared tools are not beside this clone ({path}); CI has them and runs this test")
    return path
