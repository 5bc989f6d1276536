"""What Excel's function wizard (Insert Function, Shift+F3) says about each live function, in Chinese.

The add-in registers these with ``Application.MacroOptions`` when it opens (the generated ``Auto_Open`` in
``RibbonMyAddin``), as xlwings' *Import Functions* registers docstrings. The functions' own docstrings stay
English, for whoever maintains them; a test holds the argument names here to the functions' signatures, so a
renamed or added argument cannot go without its help. Excel cuts every text at 255 characters. The wizard files
the functions under the add-in's title (``ribbon_spec.TITLE``, as ``ribbon_build`` registers them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from converter.fields import HEADER
from converter.profile import DEFAULT_PROFILE, MoneyUnit, strip_unit
from converter.severity import VERDICT_OK, VERDICT_SEPARATOR, VERDICT_SHOWN, tally
from converter.targets import QUALITATIVE

_PROFILE = f"可选：表式版本名称，不填即 {DEFAULT_PROFILE}（模板的“版本信息”工作表中可查）"
_OK = f"没有问题显示“{VERDICT_OK}”"
_COUNTS = tally(dict(zip(VERDICT_SHOWN, "nm", strict=True)), VERDICT_SHOWN)  # 错误 n 条，警告 m 条


def _amount(argument: str, optional: bool = False) -> str:
    """A budget argument's help: its amount's label on the forms, without the unit (the form's unit applies)."""
    return ("可选：" if optional else "") + strip_unit(HEADER[f"budget.{argument}"].label)


@dataclass(frozen=True)
class FunctionHelp:
    description: str
    arguments: dict[str, str]


HELP = {
    "PG_CHECK_INDICATOR": FunctionHelp(
        f"校验一行绩效指标：{_OK}，否则显示问题说明（多条用“{VERDICT_SEPARATOR}”分隔）；整行为空时显示空白。",
        {
            "level1": "本行的一级指标（如 产出指标）",
            "level2": "本行的二级指标（如 数量指标）",
            "indicator_name": "本行的三级指标名称",
            "target": "本行的指标值（目标值），如 ≥90%、100%、≤12月底前",
            "end_date": "可选：申报表的计划完成日期，用于检查时限类指标",
            "year": "可选：申报表的年度",
            "profile": _PROFILE,
            "comparator": "可选：本行单独的比较符号（指标性质）单元格，表式有此列时填",
            "unit": "可选：本行单独的计量单位单元格，表式有此列时填",
        },
    ),
    "PG_TARGET_PARTS": FunctionHelp(
        f"把指标值拆成 比较符号、数值、单位 三格（如“≥90%”→ ≥、90、%）；定性指标显示“{QUALITATIVE}”和原文。",
        {"target": "指标值（目标值）单元格"},
    ),
    "PG_CHECK_BUDGET": FunctionHelp(
        f"校验四个预算金额（按表式的金额单位，{'或'.join(get_args(MoneyUnit))}）：{_OK}，否则显示问题说明。",
        {
            "total": _amount("total"),
            "current_year": _amount("current_year"),
            "prior_year_budget": _amount("prior_year_budget"),
            "prior_year_executed": _amount("prior_year_executed"),
            "profile": _PROFILE,
        },
    ),
    "PG_SHEET_SUMMARY": FunctionHelp(
        f"统计整张指标表和预算金额的问题：{_OK}，否则显示“{_COUNTS}”。",
        {
            "indicators": "整个指标表区域，各列按表式的指标表列顺序（一级指标、二级指标……）",
            "total": _amount("total", optional=True),
            "current_year": _amount("current_year", optional=True),
            "prior_year_budget": _amount("prior_year_budget", optional=True),
            "prior_year_executed": _amount("prior_year_executed", optional=True),
            "profile": _PROFILE,
        },
    ),
}
