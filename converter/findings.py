"""Findings: what a rule or a reader says about a declaration, as data.

How a finding is shown (CLI text, JSON, an Excel comment, a summary row) is the caller's business.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .severity import SEVERITY_LABELS as SEVERITY_LABELS  # the vocabulary lives there, light for the command line
from .severity import SEVERITY_RANK
from .severity import Severity as Severity


class Finding(NamedTuple):
    """A finding is plain data, a tuple: bulk conversion makes one for every problem of every file, and Excel's
    recalculation for every row, so it is made, pickled and compared at a tuple's cost."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None
    project: str | None = None

    @classmethod
    def make(cls, code: str, severity: Severity, message: str, field: str | None = None, *, file: str | None = None,
             sheet: str | None = None, cell: str | None = None, project: str | None = None) -> Finding:
        """A finding from its parts, the field given by position as the rules give it."""
        return made(code, severity, message, field, file, sheet, cell, project)

    def located(self, **where: str | None) -> Finding:
        """A copy with location parts filled in where they are still unknown."""
        updates: dict[str, Any] = {k: v for k, v in where.items() if v is not None and getattr(self, k) is None}
        return self._replace(**updates) if updates else self

    def as_json(self) -> dict[str, Any]:
        """The finding as a JSON object: its parts by name."""
        return self._asdict()

    def as_text(self) -> str:
        place = "，".join(
            part for part in (
                self.file,
                f"工作表“{self.sheet}”" if self.sheet else None,
                f"单元格 {self.cell}" if self.cell else None,
                f"项目“{self.project}”" if self.project else None,
            ) if part
        )
        return f"[{SEVERITY_LABELS[self.severity]}] {self.code} {self.message}" + (f"（{place}）" if place else "")


def made(code: str, severity: Severity, message: str, field: str | None, file: str | None, sheet: str | None,
         cell: str | None, project: str | None) -> Finding:
    """``Finding.make`` with every part given in order: for a loop that makes a finding of each verdict (a reader's
    hundreds for a long table), without a keyword dict each."""
    return _new_finding(Finding, (code, severity, message, file, sheet, cell, field, project))


_new_finding = tuple.__new__  # what a NamedTuple's own constructor calls, without its keyword handling


def severity_rank(f: Finding) -> int:
    return SEVERITY_RANK[f.severity]


def count_by_severity(findings: list[Finding]) -> dict[Severity, int]:
    out = dict.fromkeys(Severity, 0)
    for f in findings:
        out[f.severity] += 1
    return out
