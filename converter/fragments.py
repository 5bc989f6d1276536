"""A file's outputs ready to write: what a bulk worker hands the parent besides the JSON it wrote itself.

The parent of a bulk run is one process for all the workers, so anything it does per file caps the whole run.
A worker therefore renders its file's rows of findings.csv, indicators.csv and declarations.csv as bytes, and its
rows of the summary workbook as sheet XML (``sheet_rows``); the parent appends them. The same function renders
in the parent where no worker did (a Dask cluster, a caller of ``Writer.add``), so the outputs are the same.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .flat import csv_rows
from .sheet_rows import RenderedRows, Rows
from .summary import F_CODE, F_SEVERITY, F_UNIT, FINDINGS_COLUMNS, SUMMARY_COLUMNS, finding_links, summary_links

if TYPE_CHECKING:
    from .bulk import FileOutcome


@dataclass
class Fragments:
    findings_csv: bytes
    indicators_csv: bytes
    declarations_csv: bytes
    findings: RenderedRows  # the 问题清单 rows
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
    """CSV lines as the bulk CSV files hold them (UTF-8; the file's BOM and header are the parent's)."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("utf-8")


def finding_csv(rows: Iterable[Sequence[str | None]]) -> bytes:
    """Findings as findings.csv lines: a field a spreadsheet would take for a formula neutralised."""
    return csv_bytes(csv_rows(list(rows)))


def render_outcome(outcome: FileOutcome, link_base: str | None) -> Fragments:
    """An outcome's rows in every output; its declarations' summary rows are replaced by the values as the
    summary writes them (printable, cut at Excel's limit), which the parent counts and amends."""
    summary = Rows(SUMMARY_COLUMNS)
    for d in outcome.declarations:
        d.summary = tuple(summary.add(d.summary, summary_links(link_base, d.summary)))
    findings = Rows(FINDINGS_COLUMNS)
    for row in outcome.findings:
        findings.add(row, finding_links(link_base, row))
    return Fragments(
        finding_csv(outcome.findings),
        csv_bytes(row for d in outcome.declarations for row in d.indicators),
        csv_bytes(d.flat for d in outcome.declarations if d.flat),
        findings.done(), summary.done(), finding_tally(outcome.findings))
