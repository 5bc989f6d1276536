"""How bad a finding is, and its Chinese word: the vocabulary alone, apart from ``findings``.

It imports nothing but the standard library, so the command line can offer ``--min-severity`` and word its help
before pydantic and the readers are loaded (``perfgoal --help`` answers at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Severity(StrEnum):
    """Declared worst first: callers rank by this order."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_LABELS = {Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.INFO: "提示"}
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}  # 0 the worst, by the declaration

# A checking cell's words, in the add-in's live functions and in the template's native formulas alike: the mark
# when nothing is wrong, and what stands between a cell's problems.
VERDICT_OK = "✓"
VERDICT_SEPARATOR = "；"
VERDICT_SHOWN = (Severity.ERROR, Severity.WARNING)  # what a cell shows and counts: infos go to the results sheet


def tally(counts: Mapping[Severity, int | str], shown: Iterable[Severity] = tuple(Severity)) -> str:
    """Counts in words, "错误 2 条，警告 1 条，提示 0 条": the command line's, the ribbon's, a cell's (errors and
    warnings only)."""
    return "，".join(f"{SEVERITY_LABELS[s]} {counts[s]} 条" for s in shown)
