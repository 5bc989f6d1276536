"""How a finding's place is said to people: its cell, or the line of a text export, and its field as the form
names it (``indicators[8].target`` → 第9行 指标目标值), and the order findings are listed in.

``perfgoal check``, the bulk summary, its CSV files and the marked-up feedback copies all ask here, so a place
reads the same wherever staff meet it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .fields import COLUMNS, HEADER, INDICATOR_PREFIX
from .findings import Finding, severity_rank
from .model import Declaration, fields_of
from .profile import UnknownProfileError, load_profile
from .readers.grid import parse_cell

_INDICATOR = re.compile(r"^indicators\[(\d+)\](?:\.(\w+))?$")
_NOWHERE = (1 << 30, 1 << 30)  # a finding without a cell comes after those with one


def place_text(sheet: str | None, cell: str | None) -> str | None:
    """The cell as shown: ``D19`` on a sheet; a text export has no sheet, and its "cell" ``D31`` names the 31st
    line (and its fourth tab-separated field), which staff find by its line number: ``第31行``."""
    if cell is None or sheet is not None:
        return cell
    found = parse_cell(cell)
    return f"第{found[0] + 1}行" if found is not None else cell


@lru_cache(maxsize=65536)
def cell_order(cell: str | None) -> tuple[int, int]:
    """A sort key that lists cells top to bottom, then left to right (D9 before D19, A20 before B20). Remembered:
    every finding of a batch is sorted by it."""
    found = parse_cell(cell) if cell else None
    return found if found is not None else _NOWHERE


def finding_order(f: Finding) -> tuple[str, tuple[int, int], int, str]:
    """Sheet, then cell order, then severity and code: the order in which findings are read down a form."""
    return f.sheet or "", cell_order(f.cell), severity_rank(f), f.code


def field_text(field: str | None, profile: str | None) -> str | None:
    """The field in the words of the declaration's form: ``indicators[8].target`` → ``第9行 指标目标值`` (the
    ninth row of the indicator table, counted as the rules count it), ``budget.total`` → ``项目总预算（元）``,
    ``indicators`` → ``绩效指标``. An unknown path is returned as it is."""
    if field is None:
        return None
    return _field_text(field, profile)


@lru_cache(maxsize=8192)
def _field_text(field: str, profile: str | None) -> str:
    try:
        form = load_profile(profile) if profile else None
    except UnknownProfileError:
        form = None
    m = _INDICATOR.match(field)
    if m is not None:
        row = f"第{int(m.group(1)) + 1}行"
        key = m.group(2)
        if key is None or key not in COLUMNS:
            return row
        label = form.column_label(key) if form is not None else COLUMNS[key].label
        return f"{row} {label}"
    if field in HEADER:
        return form.label(field) if form is not None else HEADER[field].label
    top = next((d for d in fields_of(Declaration) if d.name == field), None)  # a section: project, budget…
    if top is not None:
        return top.title
    if field.startswith(INDICATOR_PREFIX):
        key = field.removeprefix(INDICATOR_PREFIX)
        if key in COLUMNS:
            return form.column_label(key) if form is not None else COLUMNS[key].label
    return field
