"""LibreOffice for the tests: conversions with ``soffice --convert-to`` and UNO actions via ``uno_helper.py``.

CI installs LibreOffice (``.ci/run``); where it is missing outside CI the tests that need it are skipped with
that reason, and in CI (``CI=true``) they fail instead, so a broken install cannot pass unnoticed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

HELPER = Path(__file__).with_name("uno_helper.py")
SYSTEM_PYTHON = "/usr/bin/python3"
FILTERS = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "xls": "xls:MS Excel 97", "ods": "ods", "pdf": "pdf"}


def _has_uno() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0


def require_libreoffice() -> None:
    missing = shutil.which("soffice") is None or not _has_uno()
    if missing and os.environ.get("CI"):
        pytest.fail("LibreOffice (libreoffice-calc-nogui, python3-uno) must be installed in CI")
    if missing:
        pytest.skip("LibreOffice is not installed here; .ci/run installs it")


def convert(files: Sequence[Path], fmt: str, outdir: Path) -> list[Path]:
    """Files re-saved by LibreOffice in ``fmt``, one soffice run for all of them."""
    require_libreoffice()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                        "--convert-to", FILTERS[fmt], "--outdir", str(outdir), *map(str, files)],
                       check=True, capture_output=True, timeout=300)
    out = [outdir / f"{f.stem}.{fmt}" for f in files]
    missing = [p for p in out if not p.exists()]
    assert not missing, f"LibreOffice wrote no {missing}"
    return out


def uno(*args: str | Path) -> str:
    require_libreoffice()
    done = subprocess.run([SYSTEM_PYTHON, str(HELPER), *map(str, args)], capture_output=True, text=True,
                          timeout=300, check=True)
    return done.stdout


def invalid_cells(*files: Path) -> dict[str, dict[str, list[str]]]:
    result: dict[str, dict[str, list[str]]] = json.loads(uno("invalid", *files))
    return result
