"""Regenerate the pictures in docs/ with LibreOffice (headless) and pdftoppm.

    python docs/make_pictures.py          # every picture
    python docs/make_pictures.py bulk     # only the bulk run's: overview sheet and marked-up copy
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

from converter.bulk import SUMMARY_XLSX, run_bulk  # noqa: E402
from converter.feedback import FEEDBACK_DIR  # noqa: E402
from converter.profile import profile_names  # noqa: E402
from xl_addin.book import OpenpyxlBook  # noqa: E402
from xl_addin.ribbon import RESULTS_SHEET, validate_sheet  # noqa: E402


class _Quiet:
    def alert(self, text: str) -> None:
        print(text)


def render(xlsx: Path, png: Path, work: Path, crop: tuple[float, float] | None = None, dpi: int = 80) -> None:
    """The first page of ``xlsx`` as LibreOffice prints it; ``crop`` keeps a band of it (top and bottom as
    fractions of the page's height)."""
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{work}/profile",
                    "--convert-to", "pdf", "--outdir", str(work), str(xlsx)], check=True, capture_output=True)
    band: list[str] = []
    if crop is not None:
        height = round(11.69 * dpi)  # A4 portrait, in pixels at this resolution
        band = ["-x", "0", "-y", str(round(crop[0] * height)), "-W", str(round(8.27 * dpi)),
                "-H", str(round((crop[1] - crop[0]) * height))]
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", *band,
                    str(work / f"{xlsx.stem}.pdf"), str(png.with_suffix(""))], check=True)


def bulk_pictures(work: Path) -> None:
    """The overview sheet of a bulk run over the examples, and the indicator table of a marked-up copy."""
    source = work / "收到"
    (source / "二处").mkdir(parents=True)
    for i, path in enumerate(sorted((ROOT / "examples").glob("*.xlsx"))):
        shutil.copyfile(path, (source / "二处" if i % 2 else source) / path.name)
    out = work / "结果"
    run_bulk(source, out, jobs=2, progress=False, feedback=True)
    overview = work / "overview.xlsx"
    shutil.copyfile(out / SUMMARY_XLSX, overview)
    render(overview, ROOT / "docs" / "overview-sheet.png", work)
    copy = work / "feedback.xlsx"
    shutil.copyfile(next((out / FEEDBACK_DIR).rglob("declarations-2020-02.xlsx")), copy)
    render(copy, ROOT / "docs" / "feedback-copy.png", work, crop=(0.58, 0.97), dpi=110)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="pictures-"))
    if sys.argv[1:] == ["bulk"]:
        bulk_pictures(work)
        shutil.rmtree(work)
        return
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
    bulk_pictures(work)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
