"""The declaration model: what one 财政项目支出绩效目标申报表 holds.

The model is deliberately permissive about *content* (a field may be empty, a level may be unknown):
a returned form with defects must still load so that the rules can report them. It is strict about
*types* (money is Decimal with at most two places, dates are dates), so that canonical JSON is exact.
Each field's ``title`` is the label printed on the paper form; readers, the template and messages take
labels from here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

SCHEMA_VERSION: Literal["1.0"] = "1.0"


MAX_CELL_CHARS = 32767  # what one Excel cell holds
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean_text(value: Any) -> str | None:
    """Trim outer whitespace, unify line breaks to ``\\n`` and map empty to None; inner text is kept.

    Control characters other than tab and line break cannot be stored in a workbook cell (XML 1.0), and
    no form needs them, so they are refused here; readers remove them and say so.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("text expected")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(text):
        raise ValueError("text holds control characters")
    if len(text) > MAX_CELL_CHARS:
        raise ValueError(f"text longer than {MAX_CELL_CHARS} characters (one Excel cell)")
    return text or None


def strip_controls(text: str) -> str:
    """The text without the control characters ``clean_text`` refuses."""
    return _CONTROL.sub("", text)


def has_controls(text: str) -> bool:
    """Whether ``clean_text`` would refuse the text: a search, cheaper than stripping and comparing."""
    return _CONTROL.search(text) is not None


def _to_money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("amount expected, got a boolean")
    if isinstance(value, float):
        value = repr(value)  # Decimal(1114.09) would be 1114.0899999…
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError("amount must be finite")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValueError("amounts have at most two decimal places (分)")
    return amount.quantize(Decimal("0.01"))


def _money_str(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


# Excel cannot hold a date before 1900-03-01 (its serial days start in 1900, with a phantom 29 February).
FIRST_DATE = dt.date(1900, 3, 1)


def _to_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise ValueError("a date without time expected")
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)  # canonical form only; readers parse the spellings people type
    if not isinstance(value, dt.date):
        raise ValueError("date expected")
    if value < FIRST_DATE:
        raise ValueError(f"dates before {FIRST_DATE.isoformat()} cannot be stored in a workbook")
    return value


def _to_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError("boolean expected")


Text = Annotated[str | None, BeforeValidator(clean_text)]
Money = Annotated[
    Decimal | None,
    BeforeValidator(_to_money),
    PlainSerializer(_money_str, return_type=str | None, when_used="always"),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}, {"type": "null"}]}),
]
Date = Annotated[
    dt.date | None,
    BeforeValidator(_to_date),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}),
]
Flag = Annotated[bool | None, BeforeValidator(_to_bool)]

_CONFIG = ConfigDict(extra="forbid", validate_assignment=True)


class Project(BaseModel):
    model_config = _CONFIG
    name: Text = Field(None, title="项目名称")
    category: Text = Field(None, title="项目类别")
    start_date: Date = Field(None, title="计划开始日期")
    end_date: Date = Field(None, title="计划完成日期")
    includes_government_procurement: Flag = Field(None, title="是否含有政府购买服务")
    performance_type: Text = Field(None, title="绩效类型")
    overview: Text = Field(None, title="项目概况")
    basis: Text = Field(None, title="立项依据")
    necessity: Text = Field(None, title="项目设立的必要性")
    safeguards: Text = Field(None, title="保证项目实施的制度、措施")
    implementation_plan: Text = Field(None, title="项目实施计划")
    goals: Text = Field(None, title="总目标及阶段性目标")


class Budget(BaseModel):
    """Amounts in 元, as the Shanghai form states them."""

    model_config = _CONFIG
    total: Money = Field(None, title="项目总预算（元）")
    current_year: Money = Field(None, title="项目当年预算（元）")
    prior_year_budget: Money = Field(None, title="同名项目上年预算额（元）")
    prior_year_executed: Money = Field(None, title="同名项目上年预算执行数（元）")


class Indicator(BaseModel):
    """One row of the indicator table; ``target`` is the text as written, never a parsed value."""

    model_config = _CONFIG
    level1: Text = Field(None, title="一级目标")
    level2: Text = Field(None, title="二级目标")
    name: Text = Field(None, title="三级目标")
    target: Text = Field(None, title="指标目标值")


class Declaration(BaseModel):
    model_config = _CONFIG
    schema_version: Literal["1.0"] = Field("1.0", title="数据格式版本")
    profile: str = Field(title="表式版本")
    year: int | None = Field(None, title="年度", ge=1900, le=2999)
    unit_name: Text = Field(None, title="申报单位名称")
    project: Project = Field(default_factory=Project, title="项目基本信息")
    budget: Budget = Field(default_factory=Budget, title="本项目上年度市级财政资金使用情况")
    indicators: list[Indicator] = Field(default_factory=list, title="绩效目标")


def field_labels() -> dict[str, str]:
    """Dotted field path → form label, derived from the model (e.g. ``project.name`` → 项目名称)."""
    out: dict[str, str] = {}
    for name, info in Declaration.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel) and name in ("project", "budget"):
            for sub_name, sub_info in sub.model_fields.items():
                out[f"{name}.{sub_name}"] = sub_info.title or sub_name
        else:
            out[name] = info.title or name
    for sub_name, sub_info in Indicator.model_fields.items():
        out[f"indicators[].{sub_name}"] = sub_info.title or sub_name
    return out


def get_field(decl: Declaration, path: str) -> Any:
    """Value at a dotted path such as ``project.name``."""
    obj: Any = decl
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj
