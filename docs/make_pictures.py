"""Regenerate the pictures in docs/ with LibreOffice (headless) and pdftoppm.

    python docs/make_pictures.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converter.profile import profile_names  # noqa: E402
from xl_addin.book import OpenpyxlBook  # noqa: E402
from xl_addin.ribbon import RESULTS_SHEET, validate_sheet  # noqa: E402


class _Quiet:
    def alert(self, text: str) -> None:
        print(text)


def render(xlsx: Path, png: Path, work: Path) -> None:
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{work}/profile",
                    "--convert-to", "pdf", "--outdir", str(work), str(xlsx)], check=True, capture_output=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(work / f"{xlsx.stem}.pdf"), str(png.with_suffix(""))], check=True)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="pictures-"))
    for name in profile_names():
        render(ROOT / "templates" / f"{name}.xlsx", ROOT / "docs" / f"template-{name}.png", work)
    render(ROOT / "examples" / "declarations-2020-04.xlsx", ROOT / "docs" / "example-page1.png", work)
    checked = work / "checked.xlsx"
    shutil.copyfile(ROOT / "examples" / "declarations-2020-06.xlsx", checked)
    book = OpenpyxlBook(checked)
    validate_sheet(book, _Quiet())  # type: ignore[arg-type]
    book.save()
    wb = openpyxl.load_workbook(checked)
    for name in wb.sheetnames:
        if name != RESULTS_SHEET:
            del wb[name]
    ws = wb[RESULTS_SHEET]
    for col, width in zip("ABCDEF", (8, 8, 70, 30, 10, 26), strict=True):
        ws.column_dimensions[col].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    results = work / "results.xlsx"
    wb.save(results)
    render(results, ROOT / "docs" / "results-sheet.png", work)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
