"""Where each field and table sits on our template sheet of a profile, and the defined name that marks it.

One geometry, derived from the profile's rows and table columns: the template generator, the writer and the
name-based reader all take positions from here. The header grid mirrors the paper form (label, value, label,
value) across the table's width, so the label locator reads a re-saved template (xls, ods) as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from .fields import COLUMNS, HEADER
from .model import Period
from .profile import Profile, load_profile
from .readers.grid import column_letter

TEMPLATE_VERSION = "2"
META_SHEET = "版本信息"
META_PROFILE_LABEL = "表式版本"  # the meta sheet's row that names the profile
LISTS_SHEET = "下拉列表"
DEFAULT_SHEET = "申报表"
NAME_PREFIX = "pg_"
INDICATORS_NAME = f"{NAME_PREFIX}indicators"
PROFILE_NAME = f"{NAME_PREFIX}profile"  # a workbook name holding the profile, as the meta sheet does

TITLE_ROW = 1
MIN_COLUMNS = 4


def meta_profile(rows: Sequence[Sequence[object]]) -> str | None:
    """The profile our meta sheet's rows name (its ``META_PROFILE_LABEL`` row), or None."""
    return next((str(r[1]) for r in rows if len(r) > 1 and r[0] == META_PROFILE_LABEL and r[1]), None)


@dataclass(frozen=True)
class Slot:
    """One header field: its label cell, its value cell and, for wide values, the merged value range."""

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
        """The value spans more than one column."""
        return self.value_end_col != self.value_col

    @property
    def value_ref(self) -> str:
        return f"{self.value_col}{self.row}"

    @property
    def label_ref(self) -> str:
        return f"{self.label_col}{self.row}"


@dataclass(frozen=True)
class TableSlot:
    """One indicator table: its heading row (forms with long-term and annual tables), header row and data rows."""

    period: Period | None
    heading_row: int | None
    header_row: int
    first_row: int
    last_row: int

    @property
    def name(self) -> str:
        return table_name(self.period)


def name_of(path: str) -> str:
    """The defined name of a field: ``project.name`` → ``pg_project_name``."""
    return NAME_PREFIX + path.replace(".", "_")


_BY_NAME = {name_of(p): p for p in HEADER}


def path_of(name: str) -> str | None:
    """The field path of one of our defined names, or None."""
    return _BY_NAME.get(name)


def table_name(period: Period | None) -> str:
    """``pg_indicators`` for a form with one table; ``pg_indicators_annual`` / ``…_long_term`` otherwise."""
    return INDICATORS_NAME if period is None else f"{INDICATORS_NAME}_{period}"


def period_of_table_name(name: str) -> tuple[bool, Period | None]:
    """(whether the name marks an indicator table, its period)."""
    if name == INDICATORS_NAME:
        return True, None
    periods: tuple[Period, ...] = ("annual", "long_term")
    for period in periods:
        if name == table_name(period):
            return True, period
    return False, None


@dataclass(frozen=True)
class SheetLayout:
    """The template sheet of one profile, for tables of given lengths."""

    slots: tuple[Slot, ...]
    sections: dict[str, int]  # "@budget" → its heading row
    keys: tuple[str, ...]  # the indicator columns, left to right
    tables: tuple[TableSlot, ...]
    width: int  # columns the form spans

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(column_letter(i) for i in range(self.width))

    @property
    def last_column(self) -> str:
        return column_letter(self.width - 1)

    @property
    def check_column(self) -> str:
        """Beside the form: the add-in's live checks."""
        return column_letter(self.width)

    def column_of(self, key: str) -> str | None:
        return column_letter(self.keys.index(key)) if key in self.keys else None

    def slot(self, path: str) -> Slot | None:
        return next((s for s in self.slots if s.path == path), None)

    @property
    def last_row(self) -> int:
        return self.tables[-1].last_row


def _header_columns(width: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(label, first value, last value) columns of a row's first and second field."""
    mid = width // 2
    return (0, 1, mid - 1), (mid, mid + 1, width - 1)


def sheet_layout(profile: Profile, rows_per_table: tuple[int, ...] | None = None) -> SheetLayout:
    """The layout of ``profile``'s form; ``rows_per_table`` (one count per table) grows tables past the template's
    blank rows for a filled form."""
    return _layout(profile.name, rows_per_table)


@cache
def _layout(name: str, rows_per_table: tuple[int, ...] | None) -> SheetLayout:
    profile = load_profile(name)
    keys = tuple(c.key for c in profile.form.table.columns)
    unknown = [k for k in keys if k not in COLUMNS]
    if unknown:
        raise ValueError(f"profile {profile.name}: unknown indicator columns {unknown}")
    width = max(MIN_COLUMNS, len(keys))
    (l1, v1a, v1b), (l2, v2a, v2b) = _header_columns(width)
    letter = column_letter
    slots: list[Slot] = []
    sections: dict[str, int] = {}
    row = TITLE_ROW + 1
    for fields in profile.form.rows:
        if fields[0].startswith("@"):
            if fields[0] != "@indicators":
                sections[fields[0]] = row
                row += 1
            continue
        if fields[0] not in HEADER or (len(fields) > 1 and fields[1] not in HEADER):
            raise ValueError(f"profile {profile.name}: unknown field in row {list(fields)}")
        if len(fields) == 1:
            slots.append(Slot(fields[0], row, letter(l1), letter(v1a), letter(width - 1)))
        else:
            slots.append(Slot(fields[0], row, letter(l1), letter(v1a), letter(v1b)))
            slots.append(Slot(fields[1], row, letter(l2), letter(v2a), letter(v2b)))
        row += 1
    if "@indicators" in (f[0] for f in profile.form.rows):
        sections["@indicators"] = row
        row += 1
    periods: tuple[Period | None, ...] = profile.form.table.periods or (None,)
    counts = rows_per_table or tuple(0 for _ in periods)
    tables = []
    for period, count in zip(periods, counts, strict=True):
        heading = None
        if period is not None:
            heading = row
            row += 1
        header = row
        first = header + 1
        last = first + max(profile.form.table.rows, count) - 1
        tables.append(TableSlot(period, heading, header, first, last))
        row = last + 1
    return SheetLayout(tuple(slots), sections, keys, tuple(tables), width)


# The 校验 column beside the form: live checks by the add-in's functions. The names are declared here, where the
# template is generated (``converter`` knows no add-in); a test holds ``xl_addin.functions`` to them.
CHECK_LABEL = "校验"
NO_ADDIN_HINT = "未加载绩效目标插件"
LIVE_INDICATOR = "PG_CHECK_INDICATOR"
LIVE_BUDGET = "PG_CHECK_BUDGET"
LIVE_SUMMARY = "PG_SHEET_SUMMARY"
LIVE_TARGET_PARTS = "PG_TARGET_PARTS"


def live_formula(function: str, *args: str, fallback: str | None = None) -> str:
    """A live check that, where the add-in is not loaded, shows the native formulas' verdict (``fallback``) or a
    short hint, never #NAME?."""
    return f'=IFERROR({function}({",".join(args)}),{fallback or chr(34) + NO_ADDIN_HINT + chr(34)})'
