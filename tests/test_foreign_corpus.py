"""Every foreign, damaged or hostile workbook of the shared corpus gets a finding, never a crash."""

from __future__ import annotations

from converter.reading import read_file

from .shared import CORPUS, CORPUS_FILES, needs_corpus

FILES = CORPUS_FILES


@needs_corpus
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
