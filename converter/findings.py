"""Findings: what a rule or a reader says about a declaration, as data.

How a finding is shown (CLI text, JSON, an Excel comment, a summary row) is the caller's business.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_LABELS = {Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.INFO: "提示"}
_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


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

    def located(self, **where: str | None) -> Finding:
        """A copy with location parts filled in where they are still unknown."""
        updates = {k: v for k, v in where.items() if v is not None and getattr(self, k) is None}
        return self.model_copy(update=updates) if updates else self

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


def severity_rank(f: Finding) -> int:
    return _ORDER[f.severity]


def count_by_severity(findings: list[Finding]) -> dict[Severity, int]:
    out = dict.fromkeys(Severity, 0)
    for f in findings:
        out[f.severity] += 1
    return out
