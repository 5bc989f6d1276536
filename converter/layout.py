"""The paper form's own words that are not model fields: its title, year line and section headings.

Field labels come from the model (``field_labels``); this module adds the rest of what is printed on the
form, and the normalisation used to recognise a label however it was retyped (``项目名称*：``,
``项目名称:``, ``项目名称＊``, ``项目总预算(元)``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .model import Budget, Declaration, Indicator, field_labels

FORM_TITLE = "财政项目支出绩效目标申报表"
BUDGET_SECTION = Declaration.model_fields["budget"].title or ""
INDICATOR_SECTION = Declaration.model_fields["indicators"].title or ""
INDICATOR_COLUMNS: tuple[str, ...] = tuple(f.title or n for n, f in Indicator.model_fields.items())
# Other versions of the form print 一级指标/二级指标/三级指标/指标值 over the same four columns.
INDICATOR_COLUMN_SPELLINGS: tuple[tuple[str, ...], ...] = (
    (INDICATOR_COLUMNS[0], "一级指标"),
    (INDICATOR_COLUMNS[1], "二级指标"),
    (INDICATOR_COLUMNS[2], "三级指标", "三级指标名称", "指标名称"),
    (INDICATOR_COLUMNS[3], "指标值", "目标值", "年度指标值", "指标目标"),
)

LONG_TEXT_FIELDS = ("project.overview", "project.basis", "project.necessity", "project.safeguards",
                    "project.implementation_plan", "project.goals")
DATE_FIELDS = ("project.start_date", "project.end_date")
FLAG_FIELDS = ("project.includes_government_procurement",)
MONEY_FIELDS = tuple(f"budget.{n}" for n in Budget.model_fields)
HEADER_FIELDS = tuple(p for p in field_labels() if p.startswith(("year", "unit_name", "project.", "budget.")))
# Printed below the table for signature and stamp; filled by hand on paper, so they hold no field.
FOOTER_LABELS = ("单位负责人（签字）", "填表人", "联系电话", "填报日期", "单位（盖章）")

_STRIP = re.compile(r"[\s*:：]+")


@lru_cache(maxsize=8192)
def label_key(text: str) -> str:
    """Normalise a label for comparison: NFKC (full-width → ASCII), no spaces, stars or colons."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text))


def label_index() -> dict[str, str]:
    """Normalised label → field path, for every header field of the form."""
    labels = field_labels()
    return {label_key(labels[path]): path for path in HEADER_FIELDS}


_YEAR_LINE = re.compile(r"^[(（]?\s*(\d{4})\s*[)）]?\s*年度?$")
_INDICATOR_SECTION_LINE = re.compile(r"^(\d{4})\s*年(?:度)?\s*" + INDICATOR_SECTION + "$")


def year_of_line(text: str) -> str | None:
    """The year written in a ``(2020)年度`` line, or None when the text is no year line."""
    m = _YEAR_LINE.match(text.strip())
    return m.group(1) if m else None


def is_indicator_section(text: str) -> bool:
    t = text.strip()
    return t == INDICATOR_SECTION or _INDICATOR_SECTION_LINE.match(t) is not None
