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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, getcontext
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar, cast, get_args

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


class Kind(StrEnum):
    """What a field holds, and so how every reader, writer, template validation and check treats it."""

    TEXT = "text"
    LONG_TEXT = "long_text"  # a paragraph: wrapped in the template; HTML leaked from web systems is cleaned
    DATE = "date"
    FLAG = "flag"  # 是 / 否
    MONEY = "money"  # 元 in the model and the JSON; a form may print 万元
    CHOICE = "choice"  # text from one of the profile's closed lists (``Meta.choices``)
    YEAR = "year"
    NUMBER = "number"  # kept as written, but a number on the form (权重)
    PERIOD = "period"  # which of a form's indicator tables a row came from


@dataclass(frozen=True)
class Meta:
    """A field's metadata beside its type: the one place its kind, its list and its other spellings are declared.

    ``choices`` names the profile list (``Profile.lists``) a CHOICE field takes its items from. ``spellings`` are
    other labels forms in use print for the same field (a profile may add its own). ``new`` marks keys added after
    the first declarations were stored: they stay out of canonical JSON while empty, so a declaration that does
    not use them keeps its exact bytes."""

    kind: Kind
    choices: str | None = None
    spellings: tuple[str, ...] = ()
    new: bool = False


def _is_none(value: Any) -> bool:
    return value is None


def _field(label: str, *, new: bool = False) -> Any:
    """The pydantic field: its form label as ``title``; a newer key is left out of the JSON while empty."""
    return Field(None, title=label, exclude_if=_is_none) if new else Field(None, title=label)


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
YES, NO = "是", "否"  # how a flag is written on every form
Period = Literal["annual", "long_term"]

TEXT, LONG_TEXT = Meta(Kind.TEXT), Meta(Kind.LONG_TEXT)
YEAR_MIN, YEAR_MAX = 1900, 2999  # the year cell's range, in the model and in the template's validation

_CONFIG = ConfigDict(extra="forbid", validate_assignment=True)


class Project(BaseModel):
    model_config = _CONFIG
    name: Annotated[Text, TEXT] = _field("项目名称")
    category: Annotated[Text, Meta(Kind.CHOICE, "category", ("项目类型",))] = _field("项目类别")
    start_date: Annotated[Date, Meta(Kind.DATE, spellings=("项目开始日期", "开始日期", "开始时间"))] = \
        _field("计划开始日期")
    end_date: Annotated[Date, Meta(Kind.DATE, spellings=("项目完成日期", "完成日期", "结束日期", "结束时间"))] = \
        _field("计划完成日期")
    includes_government_procurement: Annotated[Flag, Meta(Kind.FLAG, "yes_no")] = _field("是否含有政府购买服务")
    performance_type: Annotated[Text, Meta(Kind.CHOICE, "performance_type", ("资金用途",))] = _field("绩效类型")
    overview: Annotated[Text, LONG_TEXT] = _field("项目概况")
    basis: Annotated[Text, LONG_TEXT] = _field("立项依据")
    necessity: Annotated[Text, LONG_TEXT] = _field("项目设立的必要性")
    safeguards: Annotated[Text, LONG_TEXT] = _field("保证项目实施的制度、措施")
    implementation_plan: Annotated[Text, LONG_TEXT] = _field("项目实施计划")
    goals: Annotated[Text, Meta(Kind.LONG_TEXT, spellings=("总体目标", "整体目标"))] = _field("总目标及阶段性目标")
    attribute: Annotated[Text, Meta(Kind.CHOICE, "attribute", new=True)] = _field("项目属性", new=True)
    period: Annotated[Text, Meta(Kind.TEXT, spellings=("项目起止时间", "项目实施期", "实施期限", "项目周期",
                                                       "实施周期"), new=True)] = _field("项目期", new=True)
    long_term_goal: Annotated[Text, Meta(Kind.LONG_TEXT, spellings=("长期目标", "中长期目标", "实施期总目标",
                                                                        "实施期绩效目标", "长期绩效目标",
                                                                        "中长期绩效目标"),
                                         new=True)] = _field("实施期目标", new=True)
    annual_goal: Annotated[Text, Meta(Kind.LONG_TEXT, spellings=("年度总体目标", "年度绩效目标"), new=True)] = \
        _field("年度目标", new=True)


class Budget(BaseModel):
    """Amounts in 元, whatever unit the form prints (a form in 万元 is converted exactly on reading)."""

    model_config = _CONFIG
    total: Annotated[Money, Meta(Kind.MONEY, spellings=("项目总预算", "资金总额", "中期资金总额", "实施期资金总额",
                                                        "项目资金总额", "项目总投资"))] = _field("项目总预算（元）")
    current_year: Annotated[Money, Meta(Kind.MONEY, spellings=("项目当年预算", "年度资金总额", "当年资金总额",
                                                               "年度预算", "年度预算数", "本年度申请金额"))] = \
        _field("项目当年预算（元）")
    prior_year_budget: Annotated[Money, Meta(Kind.MONEY)] = _field("同名项目上年预算额（元）")
    prior_year_executed: Annotated[Money, Meta(Kind.MONEY)] = _field("同名项目上年预算执行数（元）")
    fiscal_funds: Annotated[Money, Meta(Kind.MONEY, spellings=("其中：财政拨款", "财政资金", "其中财政拨款"),
                                        new=True)] = _field("财政拨款", new=True)
    other_funds: Annotated[Money, Meta(Kind.MONEY, spellings=("其他资金", "其中：其他资金", "自有资金"), new=True)] \
        = _field("其他资金", new=True)


class Indicator(BaseModel):
    """One row of an indicator table. Every cell is kept as written: ``target`` is the 指标值 cell, never a parsed
    value; a form with separate comparator, unit, direction, weight, history or note columns keeps each in its key."""

    model_config = _CONFIG
    level1: Annotated[Text, Meta(Kind.TEXT, spellings=("一级指标",))] = _field("一级目标")
    level2: Annotated[Text, Meta(Kind.TEXT, spellings=("二级指标",))] = _field("二级目标")
    name: Annotated[Text, Meta(Kind.TEXT, spellings=("三级指标", "三级指标名称", "指标名称", "指标内容",
                                                     "绩效指标名称", "三级目标名称"))] = _field("三级目标")
    comparator: Annotated[Text, Meta(Kind.CHOICE, "comparator", ("指标性质", "计算符号", "运算符号", "比较符号",
                                                                  "符号", "指标值符号"), new=True)] = \
        _field("比较符号", new=True)
    target: Annotated[Text, Meta(Kind.TEXT, spellings=("指标值", "目标值", "年度指标值", "指标目标", "本年度计划水平",
                                                       "年度目标值", "指标值（年度）", "绩效目标值"))] = \
        _field("指标目标值")
    unit: Annotated[Text, Meta(Kind.TEXT, spellings=("度量单位", "计量单位", "单位"), new=True)] = \
        _field("计量单位", new=True)
    direction: Annotated[Text, Meta(Kind.CHOICE, "direction", ("方向", "指标方向性"), new=True)] = \
        _field("指标方向", new=True)
    weight: Annotated[Text, Meta(Kind.NUMBER, spellings=("权重（%）", "权重(%)", "权（分）重", "分值", "指标权重"),
                                 new=True)] = _field("权重", new=True)
    history: Annotated[Text, Meta(Kind.TEXT, spellings=("上年实际", "上年度实际水平", "上年实际完成值", "上年完成值",
                                                        "历史值", "上年指标值"), new=True)] = \
        _field("上年实际值", new=True)
    note: Annotated[Text, Meta(Kind.TEXT, spellings=("指标值说明", "说明", "指标解释", "指标说明"), new=True)] = \
        _field("备注", new=True)
    period: Annotated[Period | None, Meta(Kind.PERIOD, new=True)] = _field("指标期间", new=True)


_M = TypeVar("_M", bound=BaseModel)
_PERIODS: tuple[str, ...] = get_args(Period)
# A model's four slots, set through their own descriptors: a third cheaper than ``object.__setattr__`` by name,
# and models are built for every row and every finding of a batch.
_new = object.__new__
_SET_DICT = BaseModel.__dict__["__dict__"].__set__
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def built_model(model: type[_M], values: dict[str, Any], fields_set: set[str]) -> _M:
    """A model holding ``values`` (every field, in the model's order) as pydantic's constructors leave it, set
    ``fields_set``: the builders here and the findings' (``findings.Finding.make``), for values already of their
    types."""
    built: _M = _new(model)
    _SET_DICT(built, values)
    _SET_FIELDS_SET(built, fields_set)
    _SET_EXTRA(built, None)
    _SET_PRIVATE(built, None)
    return built


def _taker(annotation: Any, metadata: list[Any]) -> tuple[Callable[[Any], Any], type] | None:
    """How pydantic takes a value of a field with a ``BeforeValidator``: that function, whose result it then only
    checks to be of the field's type (``X | None``), which is the returned class."""
    before = next((m.func for m in metadata if isinstance(m, BeforeValidator)), None)
    kinds = [a for a in get_args(annotation) if a is not type(None)]
    if before is None or len(kinds) != 1 or not isinstance(kinds[0], type):
        return None
    return cast(Callable[[Any], Any], before), kinds[0]


class _Fields:
    """A model's fields as ``_fast`` takes them: their defaults in the model's order (those made by a factory, made
    per model by ``made_defaults``), and each field's taker."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        infos = model.model_fields
        self.empty: dict[str, Any] = {name: None if info.default_factory else info.get_default()
                                      for name, info in infos.items()}
        self.factories = {name: info for name, info in infos.items() if info.default_factory is not None}
        self.takers = {name: _taker(info.annotation, info.metadata) for name, info in infos.items()}

    def made_defaults(self, values: dict[str, Any], given: dict[str, Any]) -> None:
        """The factory-made defaults of the fields not ``given``, made as pydantic makes them."""
        for name, info in self.factories.items():
            if name not in given:
                values[name] = info.get_default(call_default_factory=True)


_NOT_TAKEN = object()


def _take(taker: tuple[Callable[[Any], Any], type] | None, value: Any) -> Any:
    """A value as the field's validator leaves it, or ``_NOT_TAKEN`` where only pydantic can say (a refusal)."""
    if value is None:
        return None
    if taker is None:
        return _NOT_TAKEN
    before, kind = taker
    cls = value.__class__
    if cls is str and before is clean_text and value.isprintable() and len(value) <= MAX_CELL_CHARS:
        return value.strip() or None  # all that clean_text does to a printable text that fits a cell
    if cls is Decimal and before is _to_money:
        parts = value.as_tuple()
        if parts.exponent == -2 and len(parts.digits) <= getcontext().prec:
            return value  # an amount in 分 already, that fits the context: _to_money's quantize gives it back
    try:
        taken = before(value)
    except (ValueError, TypeError):
        return _NOT_TAKEN  # pydantic raises its own error for it
    return taken if taken is None or taken.__class__ is kind else _NOT_TAKEN


def _fast(fields: _Fields, values: dict[str, Any]) -> BaseModel | None:
    """``model(**values)`` for fields that each have a taker, built as pydantic builds it; None when a value needs
    pydantic itself."""
    out = dict(fields.empty)
    takers = fields.takers
    for key, value in values.items():
        if key not in takers:
            return None  # pydantic refuses it
        taken = _take(takers[key], value)
        if taken is _NOT_TAKEN:
            return None
        out[key] = taken
    fields.made_defaults(out, values)
    return built_model(fields.model, out, set(values))


_PROJECT, _BUDGET = _Fields(Project), _Fields(Budget)
# The indicator columns whose value is a text cell as ``clean_text`` leaves it (every column but the period): a
# caller that cleaned its cells so holds the row the model would, with no model made (the add-in's functions).
TEXT_COLUMNS = frozenset(k for k, taker in _Fields(Indicator).takers.items() if taker == (clean_text, str))


def budget(**fields: Any) -> Budget:
    """``Budget(**fields)``: the same model, each amount taken by its validator alone (``_to_money``) and pydantic
    asked only where that refuses one (it raises what it would raise)."""
    built = _fast(_BUDGET, fields)
    return built if isinstance(built, Budget) else Budget(**fields)


_INDICATOR_EMPTY: dict[str, Any] = dict.fromkeys(Indicator.model_fields)


def indicator(**fields: Any) -> Indicator:
    """``Indicator(**fields)``: the same model, validated only where validation could change or refuse a value.

    For a text that ``str.isprintable`` (no line break, tab or control character) and fits one cell,
    ``clean_text`` only trims, so it is trimmed here; a period is one of the Literal's values or validated; any
    other value goes through pydantic in full, which also raises what it would raise. Readers read every cell
    once, cleaning it and reporting what they changed; validating each row again would double the model's part
    of reading a table of hundreds of rows."""
    values = dict(_INDICATOR_EMPTY)
    for key, value in fields.items():
        if key not in values:
            return Indicator(**fields)
        if value is not None:
            if key == "period":
                if value.__class__ is not str or value not in _PERIODS:
                    return Indicator(**fields)
            elif value.__class__ is str and value.isprintable() and len(value) <= MAX_CELL_CHARS:
                value = value.strip() or None
            else:
                return Indicator(**fields)
        values[key] = value
    return built_model(Indicator, values, set(fields))


_ROW_FIELDS = frozenset(("level1", "level2", "name", "target", "period"))


def indicator_row(level1: Any, level2: Any, name: Any, target: Any, period: Any) -> Indicator:
    """``indicator(level1=…, level2=…, name=…, target=…, period=…)``: a table row of the four core columns, as
    readers build one for each row of a table. The same checks as ``indicator``'s, written out for these five
    keys (no keyword dict, no loop over it), which halves the model's part of a row; any value they do not pass
    goes to ``indicator``, and so through pydantic in full."""
    if (level1 is None or (level1.__class__ is str and level1.isprintable() and len(level1) <= MAX_CELL_CHARS)) \
            and (level2 is None or (level2.__class__ is str and level2.isprintable()
                                    and len(level2) <= MAX_CELL_CHARS)) \
            and (name is None or (name.__class__ is str and name.isprintable() and len(name) <= MAX_CELL_CHARS)) \
            and (target is None or (target.__class__ is str and target.isprintable()
                                    and len(target) <= MAX_CELL_CHARS)) \
            and (period is None or (period.__class__ is str and period in _PERIODS)):
        values = dict(_INDICATOR_EMPTY)  # every column, in the model's order
        values["level1"] = None if level1 is None else level1.strip() or None
        values["level2"] = None if level2 is None else level2.strip() or None
        values["name"] = None if name is None else name.strip() or None
        values["target"] = None if target is None else target.strip() or None
        values["period"] = period
        return built_model(Indicator, values, set(_ROW_FIELDS))
    return indicator(level1=level1, level2=level2, name=name, target=target, period=period)


def indicator_read(level1: str | None, level2: str | None, name: str | None, target: str | None,
                   period: Period | None) -> Indicator:
    """``indicator_row`` for values a reader has just read and cleaned itself: each None or a text that
    ``isprintable``, fits a cell and is trimmed and not empty (what ``indicator_row`` would leave as it is), and
    ``period`` one of ``Period``'s or None. Nothing is looked at again: a reader's one pass over a long table has
    checked each cell once already. A caller that cannot promise this for every value calls ``indicator_row``."""
    values = dict(_INDICATOR_EMPTY)  # every column, in the model's order
    values["level1"] = level1
    values["level2"] = level2
    values["name"] = name
    values["target"] = target
    values["period"] = period
    return built_model(Indicator, values, set(_ROW_FIELDS))


class Declaration(BaseModel):
    model_config = _CONFIG
    schema_version: Literal["1.0"] = Field("1.0", title="数据格式版本")
    profile: str = Field(title="表式版本")
    year: Annotated[int | None, Meta(Kind.YEAR, spellings=("年度", "申报年度", "预算年度"))] = \
        Field(None, title="年度", ge=YEAR_MIN, le=YEAR_MAX)
    unit_name: Annotated[Text, Meta(Kind.TEXT, spellings=("申报单位", "单位名称", "预算单位"))] = _field("申报单位名称")
    department: Annotated[Text, Meta(Kind.TEXT, spellings=("主管部门及代码", "主管部门名称", "预算部门",
                                                                       "项目主管部门", "主管单位"), new=True)] \
        = _field("主管部门", new=True)
    implementing_unit: Annotated[Text, Meta(Kind.TEXT, spellings=("项目实施单位",), new=True)] = \
        _field("实施单位", new=True)
    project: Project = Field(default_factory=Project, title="项目基本信息")
    budget: Budget = Field(default_factory=Budget, title="项目资金")
    indicators: list[Indicator] = Field(default_factory=list, title="绩效指标")


_DECLARATION = _Fields(Declaration)


def declaration(**fields: Any) -> Declaration:
    """``Declaration(**fields)``: the same model, with ``project`` and ``budget`` given as dicts or models, validated
    only where validation could change or refuse a value.

    A reader has already read every header cell into the field's type (cleaned text, Decimal amounts, dates) and
    every row into an Indicator; pydantic would run each field's validator again. Here each field's own validator
    (its ``BeforeValidator``, the model's only say on its value) runs, a printable text is only trimmed, and
    indicators, projects and budgets that are models already are taken as pydantic takes them (as they are). Any
    value that is not plainly of its type goes through pydantic in full, which also raises what it would raise."""
    if "profile" not in fields:
        return Declaration(**fields)  # required: pydantic says so
    out = dict(_DECLARATION.empty)
    for key, value in fields.items():
        taken = _declaration_value(key, value)
        if taken is _NOT_TAKEN:
            return Declaration(**fields)
        out[key] = taken
    _DECLARATION.made_defaults(out, fields)
    return built_model(Declaration, out, set(fields))


def _declaration_value(key: str, value: Any) -> Any:
    """One field of ``declaration`` as pydantic would leave it, or ``_NOT_TAKEN``."""
    if key == "project" or key == "budget":
        model, parts = (Project, _PROJECT) if key == "project" else (Budget, _BUDGET)
        if value.__class__ is model:
            return value  # a model is taken as it is (pydantic's revalidate_instances="never")
        built = _fast(parts, value) if value.__class__ is dict else None
        return _NOT_TAKEN if built is None else built
    if key == "indicators":
        return list(value) if value.__class__ is list and set(map(type, value)) <= {Indicator} else _NOT_TAKEN
    if key == "profile":
        return value if value.__class__ is str else _NOT_TAKEN
    if key == "year":
        return value if value is None or (value.__class__ is int and YEAR_MIN <= value <= YEAR_MAX) else _NOT_TAKEN
    if key == "schema_version":
        return SCHEMA_VERSION if value.__class__ is str and value == SCHEMA_VERSION else _NOT_TAKEN
    if key in _DECLARATION.takers:
        return _take(_DECLARATION.takers[key], value)
    return _NOT_TAKEN
