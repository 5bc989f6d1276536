"""Where each field sits on our template sheet, and the defined name that marks it.

One row plan, derived from the model's fields: the template generator, the writer and the name-based reader
all take positions from here. The sheet mirrors the paper form's four columns (label, value, label, value),
so the label locator reads a re-saved template (xls, ods) as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layout import LONG_TEXT_FIELDS
from .model import Budget, Indicator

COLUMNS = ("A", "B", "C", "D")
LAST_COLUMN = COLUMNS[-1]
TEMPLATE_VERSION = "1"
META_SHEET = "版本信息"
LISTS_SHEET = "下拉列表"
DEFAULT_SHEET = "申报表"
MIN_INDICATOR_ROWS = 60
NAME_PREFIX = "pg_"
INDICATORS_NAME = f"{NAME_PREFIX}indicators"
PROFILE_NAME = f"{NAME_PREFIX}profile"  # a workbook name holding the profile, as the meta sheet does
TITLE_ROW = 1


@dataclass(frozen=True)
class Slot:
    """One header field: its label cell, its value cell and, for long texts, the merged value range."""

    path: str
    row: int
    label_col: str
    value_col: str
    value_end_col: str

    @property
    def name(self) -> str:
        return name_of(self.path)

    @property
    def wide(self) -> bool:
        """A long text or the unit name: the value spans the rest of the row."""
        return self.value_end_col != self.value_col

    @property
    def value_ref(self) -> str:
        return f"{self.value_col}{self.row}"

    @property
    def label_ref(self) -> str:
        return f"{self.label_col}{self.row}"


def name_of(path: str) -> str:
    """The defined name of a field: ``project.name`` → ``pg_project_name``."""
    return NAME_PREFIX + path.replace(".", "_")


def path_of(name: str) -> str | None:
    """The field path of one of our defined names, or None."""
    return _BY_NAME.get(name)


# The row plan: each entry is one row of the sheet, with one or two fields (label, value[, label, value]).
_BUDGET = [f"budget.{n}" for n in Budget.model_fields]
ROW_PLAN: tuple[tuple[str, ...], ...] = (
    ("year",),
    ("unit_name",),
    ("project.name", "project.category"),
    ("project.start_date", "project.end_date"),
    ("project.includes_government_procurement", "project.performance_type"),
    *((p,) for p in LONG_TEXT_FIELDS),
    ("@budget",),
    (_BUDGET[0], _BUDGET[1]),
    (_BUDGET[2], _BUDGET[3]),
    ("@indicators",),
)
FIRST_PLAN_ROW = TITLE_ROW + 1


def _slots() -> tuple[list[Slot], dict[str, int]]:
    slots: list[Slot] = []
    sections: dict[str, int] = {}
    for offset, fields in enumerate(ROW_PLAN):
        row = FIRST_PLAN_ROW + offset
        if fields[0].startswith("@"):
            sections[fields[0][1:]] = row
            continue
        if len(fields) == 1:
            wide = fields[0] != "year"
            slots.append(Slot(fields[0], row, "A", "B", LAST_COLUMN if wide else "B"))
        else:
            slots.append(Slot(fields[0], row, "A", "B", "B"))
            slots.append(Slot(fields[1], row, "C", "D", "D"))
    return slots, sections


SLOTS, SECTION_ROWS = _slots()
_BY_NAME = {s.name: s.path for s in SLOTS}
HEADER_ROW = SECTION_ROWS["indicators"] + 1
FIRST_INDICATOR_ROW = HEADER_ROW + 1
INDICATOR_FIELDS = tuple(Indicator.model_fields)  # level1, level2, name, target → columns A–D


# The 校验 column beside the form: live checks by the add-in's functions. The names are declared here, where the
# template is generated (``converter`` knows no add-in); a test holds ``xl_addin.functions`` to them.
CHECK_COLUMN = "E"
CHECK_LABEL = "校验"
NO_ADDIN_HINT = "未加载绩效目标插件"
LIVE_INDICATOR = "PG_CHECK_INDICATOR"
LIVE_BUDGET = "PG_CHECK_BUDGET"
LIVE_SUMMARY = "PG_SHEET_SUMMARY"
LIVE_TARGET_PARTS = "PG_TARGET_PARTS"


def live_formula(function: str, *args: str) -> str:
    """A live check that shows a short hint, not #NAME?, where the add-in is not loaded."""
    return f'=IFERROR({function}({",".join(args)}),"{NO_ADDIN_HINT}")'


def indicator_rows(count: int) -> int:
    """Rows the indicator table gets: room for at least ``MIN_INDICATOR_ROWS``."""
    return max(MIN_INDICATOR_ROWS, count)
