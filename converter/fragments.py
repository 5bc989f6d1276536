"""A file's outputs ready to write: what a bulk worker hands the parent besides the JSON it wrote itself.

The parent of a bulk run is one process for all the workers, so anything it does per file caps the whole run.
A worker therefore renders its file's rows of findings.csv, indicators.csv and declarations.csv as bytes, and its
rows of the summary workbook as sheet XML (``sheet_rows``); the parent appends them. The same function renders
in the parent where no worker did (a Dask cluster, a caller of ``Writer.add``), so the outputs are the same.
"""

from __future__ import annotations

import csv
import io
import itertools
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .flat import csv_rows
from .sheet_rows import FileLinks, PackedRows, RenderedRows, Rows, packed
from .summary import (
    F_CELL,
    F_CODE,
    F_FILE,
    F_SEVERITY,
    F_SHEET,
    F_UNIT,
    FINDINGS_COLUMNS,
    SUMMARY_COLUMNS,
    summary_links,
)

if TYPE_CHECKING:
    from .bulk import FileOutcome


@dataclass
class Fragments:
    findings_csv: bytes
    indicators_csv: bytes
    declarations_csv: bytes
    findings: PackedRows  # the 问题清单 rows, compressed (many a file: the workers compress them, not the parent)
    summary: RenderedRows  # the 汇总 rows, one a declaration
    tally: list[Tally]  # the findings counted for the overview: the parent needs no finding itself


Tally = tuple[str, str, str | None, int]  # severity, code, unit, how many


def finding_tally(rows: Iterable[Sequence[str | None]]) -> list[Tally]:
    """Findings counted by severity, code and unit, in the order each first occurs (the overview keeps it)."""
    counts: dict[tuple[str, str, str | None], int] = {}
    for row in rows:
        key = (str(row[F_SEVERITY]), str(row[F_CODE]), row[F_UNIT])
        counts[key] = counts.get(key, 0) + 1
    return [(*key, n) for key, n in counts.items()]


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV lines as the bulk CSV files hold them (UTF-8; the file's BOM and header are the parent's): the bytes
    ``csv.writer`` writes (``_csv_lines``)."""
    return _csv_lines(rows if isinstance(rows, list) else list(rows)).encode("utf-8")


def _csv_lines(rows: list[Sequence[Any]]) -> str:
    """``csv.writer``'s lines (the excel dialect) without its cost per field: every cell of a batch's tables
    passes here. A table of texts (or nothing) whose rows have two fields or more is joined in C; its texts
    together tell whether any field needs quoting (a comma, a quote or a line break in it), and only a row
    with more of them than its joins made is then looked at field by field. Anything else (a field that is not
    text, rows of other lengths, a row of one field, which the writer quotes when empty) goes to ``csv.writer``
    whole."""
    if not rows:
        return ""
    width = len(rows[0])
    try:
        if width < 2 or min(map(len, rows)) != max(map(len, rows)):
            raise TypeError
        fields = [v if v is not None else "" for row in rows for v in row]
        lines = list(map(",".join, zip(*[iter(fields)] * width, strict=True)))  # TypeError: a field not text
    except TypeError:
        return _csv_written(rows)
    texts = "".join(fields)
    if "," in texts or '"' in texts or "\n" in texts or "\r" in texts:
        commas = width - 1
        for i, line in enumerate(lines):
            if line.count(",") != commas or '"' in line or "\n" in line or "\r" in line:
                lines[i] = ",".join([f'"{f.replace(chr(34), chr(34) * 2)}"' if _CSV_QUOTED.search(f) else f
                                     for f in fields[i * width:(i + 1) * width]])
    lines.append("")
    return "\r\n".join(lines)


_CSV_QUOTED = re.compile('[,"\r\n]')  # what the excel dialect quotes a field for (a quote then doubled)


def _csv_written(rows: Iterable[Sequence[Any]]) -> str:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue()


def finding_csv(rows: Iterable[Sequence[str | None]]) -> bytes:
    """Findings as findings.csv lines: a field a spreadsheet would take for a formula neutralised."""
    return csv_bytes(csv_rows(list(rows)))


def render_outcome(outcome: FileOutcome, link_base: str | None) -> Fragments:
    """An outcome's rows in every output; its declarations' summary rows are replaced by the values as the
    summary writes them (printable, cut at Excel's limit), which the parent counts and amends."""
    summary = Rows(SUMMARY_COLUMNS)
    for d in outcome.declarations:
        d.summary = tuple(summary.add(d.summary, summary_links(link_base, d.summary)))
    return Fragments(
        finding_csv(outcome.findings),
        csv_bytes(row for d in outcome.declarations for row in d.indicators),
        csv_bytes(d.flat for d in outcome.declarations if d.flat),
        packed(finding_sheet_rows(outcome.findings, link_base)), summary.done(), finding_tally(outcome.findings))


_LINK_PLACE = operator.itemgetter(F_FILE, F_SHEET, F_CELL)  # a finding's columns its links are made of, in C
_FILE_SHEET, _CELL = operator.itemgetter(0, 1), operator.itemgetter(2)


def finding_sheet_rows(rows: Sequence[Sequence[str | None]], link_base: str | None) -> RenderedRows:
    """Findings as 问题清单 rows, as ``Rows.add`` renders each with its ``finding_links``: all at once
    (``Rows.add_texts``), with each file's links worked out once (``FileLinks``)."""
    findings = Rows(FINDINGS_COLUMNS)
    if link_base is None:
        findings.add_texts(rows)
        return findings.done()
    files: dict[str, FileLinks] = {}
    to_file: list[tuple[str, str] | None] = []
    to_cell: list[tuple[str, str] | None] = []
    # A file's findings come together, a sheet's mostly too: their links are made a run of rows at a time.
    for (shown, sheet), run in itertools.groupby(map(_LINK_PLACE, rows), _FILE_SHEET):
        cells = list(map(_CELL, run))
        if not shown:
            to_file.extend([None] * len(cells))
            to_cell.extend([None] * len(cells))
            continue
        links = files.get(shown)
        if links is None:
            links = files[shown] = FileLinks(link_base, shown)
        to_file.extend([links.file] * len(cells))
        to_cell.extend(links.cells(sheet, cells))
    findings.add_texts(rows, {F_FILE: to_file, F_CELL: to_cell})
    return findings.done()
