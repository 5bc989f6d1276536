from __future__ import annotations

from pathlib import Path

import pytest

from converter.reading import FileResult, read_file

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "declarations-2020.txt"


@pytest.fixture(scope="session")
def sample() -> FileResult:
    return read_file(SAMPLE)
