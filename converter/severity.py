"""How bad a finding is, and its Chinese word: the vocabulary alone, apart from ``findings``.

It imports nothing but the standard library, so the command line can offer ``--min-severity`` and word its help
before pydantic and the readers are loaded (``perfgoal --help`` answers at once).
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """Declared worst first: callers rank by this order."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_LABELS = {Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.INFO: "提示"}
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}  # 0 the worst, by the declaration
