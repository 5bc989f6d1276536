"""Findings: what a rule or a reader says about a declaration, as data.

How a finding is shown (CLI text, JSON, an Excel comment, a summary row) is the caller's business.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .model import built_model
from .severity import SEVERITY_LABELS as SEVERITY_LABELS  # the vocabulary lives there, light for the command line
from .severity import SEVERITY_RANK
from .severity import Severity as Severity


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)
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
        """A finding from parts that are already of their types (rules and readers make them from their own
        data), built as ``model_construct`` builds it at a third of its cost: bulk conversion makes findings
        for every file, and Excel's recalculation for every row."""
        return made(code, severity, message, field, file, sheet, cell, project)

    def located(self, **where: str | None) -> Finding:
        """A copy with location parts filled in where they are still unknown."""
        values = self.__dict__
        updates = {k: v for k, v in where.items() if v is not None and values[k] is None}
        return _built({**values, **updates}) if updates else self

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


_FIELDS = frozenset(Finding.model_fields)


def made(code: str, severity: Severity, message: str, field: str | None, file: str | None, sheet: str | None,
         cell: str | None, project: str | None) -> Finding:
    """``Finding.make`` with every part given in order: for a loop that makes a finding of each verdict (a reader's
    hundreds for a long table), without a keyword dict each."""
    return _built({"code": code, "severity": severity, "message": message, "file": file, "sheet": sheet,
                   "cell": cell, "field": field, "project": project})


def _built(values: dict[str, Any]) -> Finding:
    """A Finding holding ``values`` (every field, in the model's order), as pydantic's own constructors leave
    it: the same ``__dict__``, fields set, no extra or private values."""
    return built_model(Finding, values, set(_FIELDS))


def severity_rank(f: Finding) -> int:
    return SEVERITY_RANK[f.severity]


def count_by_severity(findings: list[Finding]) -> dict[Severity, int]:
    out = dict.fromkeys(Severity, 0)
    for f in findings:
        out[f.severity] += 1
    return out
