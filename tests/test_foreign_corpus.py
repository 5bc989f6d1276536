"""Every foreign, damaged or hostile workbook of the shared corpus gets a finding, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from converter.reading import read_file

CORPUS = Path(os.environ.get("PERFGOAL_CORPUS",
                             Path(__file__).resolve().parents[2] / "shared" / "corpus" / "foreign-workbooks"))
FILES = sorted(p for p in CORPUS.glob("*") if p.suffix.lower() in {".xls", ".xlsx", ".xlsm", ".xlsb", ".ods"}) \
    if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES and not os.environ.get("CI"),
                    reason=f"the shared corpus is not beside this clone ({CORPUS}); CI has it and runs this test")
def test_every_corpus_file_is_answered() -> None:
    assert FILES, f"the shared corpus is missing beside the clone: {CORPUS}"
    answered = {}
    for path in FILES:
        result = read_file(path)
        assert result.declarations == [], path
        assert [f.code for f in result.findings] and all(f.file == str(path) for f in result.findings), path
        answered[path.name] = result.findings[0].code
    assert len(answered) >= 100
    assert answered["pass_protected.xlsx"] == answered["pass_protected.ods"] == "F004"
    assert answered["issue_594_dos.ods"] == "F001"
