"""The declaration model: what one 财政项目支出绩效目标申报表 holds.

The model is deliberately permissive about *content* (a field may be empty, a level may be unknown):
a returned form with defects must still load so that the rules can report them. It is strict about
*types* (money is Decimal with at most two places, dates are dates), so that canonical JSON is exact.
Each field's ``title`` is the label printed on the paper form; readers, the template and messages take
labels from here and nowhere else.

The classes are declared here once, as plain Python: reading and checking a form never imports pydantic, whose
import and model building were most of a command's start-up. ``pydantic_model`` derives a pydantic model of each
class from the same declarations, for the JSON Schema and for validating what is not plainly of its type: a
constructor takes each value by its field's own validator (below) and asks pydantic only where that refuses it,
so it accepts, refuses and raises exactly what the pydantic model does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, getcontext
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar, cast, get_args, get_origin, get_type_hints

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


def money_str(value: Decimal | None) -> str | None:
    """An amount as canonical JSON writes it: a decimal string with two places (分)."""
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


def _title(label: str, *, default: Any = None, default_factory: Callable[[], Any] | None = None,
           required: bool = False) -> Any:
    """A field's declaration beside its type: its form label as ``title``; empty unless given a default, a
    ``default_factory`` or ``required=True``."""
    if required:
        return dataclasses.field(metadata={"title": label})
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata={"title": label})
    return dataclasses.field(default=default, metadata={"title": label})


Text = str | None
Money = Decimal | None
Date = dt.date | None
Flag = bool | None
YES, NO = "是", "否"  # how a flag is written on every form
Period = Literal["annual", "long_term"]

TEXT, LONG_TEXT = Meta(Kind.TEXT), Meta(Kind.LONG_TEXT)
YEAR_MIN, YEAR_MAX = 1900, 2999  # the year cell's range, in the model and in the template's validation
_PERIODS: tuple[str, ...] = get_args(Period)

# Each kind's validator: what a value of a field of that kind is taken through, here and in the pydantic model
# (its ``BeforeValidator``). A year's range and a period's values are their types' (``Field(ge=…)``, ``Literal``).
VALIDATORS: dict[Kind, Callable[[Any], Any]] = {
    Kind.TEXT: clean_text, Kind.LONG_TEXT: clean_text, Kind.CHOICE: clean_text, Kind.NUMBER: clean_text,
    Kind.MONEY: _to_money, Kind.DATE: _to_date, Kind.FLAG: _to_bool,
}

_NOT_TAKEN = object()
Taker = Callable[[Any], Any]


@dataclass(frozen=True)
class FieldDef:
    """One field of a record, as its class declares it: what the constructors, the pydantic model, canonical JSON
    and the field registry (``fields``) each derive their part from."""

    name: str
    title: str
    hint: Any  # the type, without ``Annotated``'s extras
    meta: Meta | None
    default: Any
    factory: Callable[[], Any] | None
    required: bool
    record: type[Record] | None  # the nested record, or the record of a list's items
    many: bool  # a list of records

    @property
    def new(self) -> bool:
        """A key added after the first declarations were stored: left out of canonical JSON while empty."""
        return self.meta is not None and self.meta.new


class _Fields:
    """A record's fields as its constructor takes them: their defaults in the declared order, and each one's taker."""

    def __init__(self, defs: tuple[FieldDef, ...]) -> None:
        self.defs = defs
        self.empty: dict[str, Any] = {d.name: d.default for d in defs}
        self.factories = {d.name: d.factory for d in defs if d.factory is not None}
        self.required = frozenset(d.name for d in defs if d.required)
        self.takers: dict[str, Taker] = {d.name: _taker(d) for d in defs}


class Record:
    """A declared record (``@record``): built from keyword values, each taken by its field's taker, with pydantic
    asked only where a taker cannot say (a refusal, or a value pydantic would convert); it then also raises what
    the pydantic model raises (``ValidationError``)."""

    _fields: ClassVar[_Fields]

    def __init__(self, **values: Any) -> None:
        taken = _fast(type(self)._fields, values)
        if taken is None:
            from .pydantic_model import validated_values  # the rare value only pydantic can take or refuse

            taken = validated_values(type(self), values)
        _SET_DICT(self, taken)

    def __setattr__(self, name: str, value: Any) -> None:
        """An assignment is validated as the constructor validates the field (pydantic's ``validate_assignment``)."""
        taker = type(self)._fields.takers.get(name)
        taken = _NOT_TAKEN if taker is None else taker(value)
        if taken is _NOT_TAKEN:
            from .pydantic_model import validated_field

            taken = validated_field(type(self), name, value)
        self.__dict__[name] = taken


_SET_DICT = Record.__dict__["__dict__"].__set__  # a record's fields, set in one step through their descriptor
_new = object.__new__
_R = TypeVar("_R", bound=Record)


def built(cls: type[_R], values: dict[str, Any]) -> _R:
    """A record holding ``values`` (every field, in the declared order), taken as they are: for builders whose
    values are already of their types."""
    made: _R = _new(cls)
    _SET_DICT(made, values)
    return made


def record(cls: type[_R]) -> type[_R]:
    """Declare a record: a dataclass (equality, repr, ``dataclasses.replace``) whose constructor is ``Record``'s."""
    written = cls.__doc__
    cls = dataclass(init=False)(cls)
    cls.__doc__ = written  # not the signature dataclass writes in its place: pydantic's schema describes a model by it
    hints = get_type_hints(cls, include_extras=True)
    defs = []
    for f in dataclasses.fields(cast(Any, cls)):
        hint = hints[f.name]
        meta = next((m for m in get_args(hint)[1:] if isinstance(m, Meta)), None) \
            if get_origin(hint) is Annotated else None
        if get_origin(hint) is Annotated:
            hint = get_args(hint)[0]
        many = get_origin(hint) is list
        inner = get_args(hint)[0] if many else hint
        nested = inner if isinstance(inner, type) and issubclass(inner, Record) else None
        factory = None if f.default_factory is dataclasses.MISSING else f.default_factory
        required = f.default is dataclasses.MISSING and factory is None
        defs.append(FieldDef(f.name, f.metadata["title"], hint, meta, None if required or factory else f.default,
                             factory, required, nested, many))
    cls._fields = _Fields(tuple(defs))
    return cls


def fields_of(cls: type[Record]) -> tuple[FieldDef, ...]:
    return cls._fields.defs


def _fast(fields: _Fields, values: dict[str, Any]) -> dict[str, Any] | None:
    """The record's values, each taken by its taker, in the declared order; None when any needs pydantic."""
    out = dict(fields.empty)
    takers = fields.takers
    for key, value in values.items():
        taker = takers.get(key)
        if taker is None:
            return None  # pydantic refuses it
        taken = taker(value)
        if taken is _NOT_TAKEN:
            return None
        out[key] = taken
    if not fields.required <= values.keys():
        return None  # pydantic says it is missing
    for name, factory in fields.factories.items():
        if name not in values:
            out[name] = factory()
    return out


def _taker(d: FieldDef) -> Taker:
    """How a field's value is taken as pydantic would leave it, or ``_NOT_TAKEN`` where only pydantic can say."""
    if d.record is not None:
        return _records(d.record) if d.many else _nested(d.record)
    if d.meta is None:
        allowed = get_args(d.hint) if get_origin(d.hint) is Literal else None
        return (lambda v: v if v.__class__ is str and v in allowed else _NOT_TAKEN) if allowed else \
            (lambda v: v if v.__class__ is d.hint else _NOT_TAKEN)
    kind = d.meta.kind
    if kind is Kind.YEAR:
        return lambda v: v if v is None or (v.__class__ is int and YEAR_MIN <= v <= YEAR_MAX) else _NOT_TAKEN
    if kind is Kind.PERIOD:
        return lambda v: v if v is None or (v.__class__ is str and v in _PERIODS) else _NOT_TAKEN
    validator = VALIDATORS[kind]
    result = next(a for a in get_args(d.hint) if a is not type(None))
    if validator is clean_text:
        return _text
    if validator is _to_money:
        return _money

    def take(value: Any) -> Any:
        if value is None:
            return None
        try:
            taken = validator(value)
        except (ValueError, TypeError):
            return _NOT_TAKEN  # pydantic raises its own error for it
        return taken if taken is None or taken.__class__ is result else _NOT_TAKEN

    return take


def _text(value: Any) -> Any:
    if value is None:
        return None
    if value.__class__ is str and value.isprintable() and len(value) <= MAX_CELL_CHARS:
        return value.strip() or None  # all that clean_text does to a printable text that fits a cell
    try:
        return clean_text(value)
    except ValueError:
        return _NOT_TAKEN


def _money(value: Any) -> Any:
    if value.__class__ is Decimal:
        parts = value.as_tuple()
        if parts.exponent == -2 and len(parts.digits) <= getcontext().prec:
            return value  # an amount in 分 already, that fits the context: _to_money's quantize gives it back
    try:
        return _to_money(value)
    except (ValueError, TypeError, ArithmeticError):
        return _NOT_TAKEN


def _nested(cls: type[Record]) -> Taker:
    def take(value: Any) -> Any:
        if value.__class__ is cls:
            return value  # a record is taken as it is (pydantic's revalidate_instances="never")
        taken = _fast(cls._fields, value) if value.__class__ is dict else None
        return _NOT_TAKEN if taken is None else built(cls, taken)

    return take


def _records(cls: type[Record]) -> Taker:
    def take(value: Any) -> Any:
        return list(value) if value.__class__ is list and set(map(type, value)) <= {cls} else _NOT_TAKEN

    return take


@record
class Project(Record):
    name: Annotated[Text, TEXT] = _title("项目名称")
    category: Annotated[Text, Meta(Kind.CHOICE, "category", ("项目类型",))] = _title("项目类别")
    start_date: Annotated[Date, Meta(Kind.DATE, spellings=("项目开始日期", "开始日期", "开始时间"))] = \
        _title("计划开始日期")
    end_date: Annotated[Date, Meta(Kind.DATE, spellings=("项目完成日期", "完成日期", "结束日期", "结束时间"))] = \
        _title("计划完成日期")
    includes_government_procurement: Annotated[Flag, Meta(Kind.FLAG, "yes_no")] = _title("是否含有政府购买服务")
    performance_type: Annotated[Text, Meta(Kind.CHOICE, "performance_type", ("资金用途",))] = _title("绩效类型")
    overview: Annotated[Text, LONG_TEXT] = _title("项目概况")
    basis: Annotated[Text, LONG_TEXT] = _title("立项依据")
    necessity: Annotated[Text, LONG_TEXT] = _title("项目设立的必要性")
    safeguards: Annotated[Text, LONG_TEXT] = _title("保证项目实施的制度、措施")
    implementation_plan: Annotated[Text, LONG_TEXT] = _title("项目实施计划")
    goals: Annotated[Text, Meta(Kind.LONG_TEXT, spellings=("总体目标", "整体目标"))] = _title("总目标及阶段性目标")
    attribute: Annotated[Text, Meta(Kind.CHOICE, "attribute", new=True)] = _title("项目属性")
    period: Annotated[Text, Meta(Kind.TEXT, spellings=("项目起止时间", "项目实施期", "实施期限", "项目周期",
                                                       "实施周期"), new=True)] = _title("项目期")
    long_term_goal: Annotated[Text, Meta(Kind.LONG_TEXT, spellings=("长期目标", "中长期目标", "实施期总目标",
                                                                        "实施期绩效目标", "长期绩效目标",
                                                                        "中长期绩效目标"),
                                         new=True)] = _title("实施期目标")
    annual_goal: Annotated[Text, Meta(Kind.LONG_TEXT, spellings=("年度总体目标", "年度绩效目标"), new=True)] = \
        _title("年度目标")


@record
class Budget(Record):
    """Amounts in 元, whatever unit the form prints (a form in 万元 is converted exactly on reading)."""

    total: Annotated[Money, Meta(Kind.MONEY, spellings=("项目总预算", "资金总额", "中期资金总额", "实施期资金总额",
                                                        "项目资金总额", "项目总投资"))] = _title("项目总预算（元）")
    current_year: Annotated[Money, Meta(Kind.MONEY, spellings=("项目当年预算", "年度资金总额", "当年资金总额",
                                                               "年度预算", "年度预算数", "本年度申请金额"))] = \
        _title("项目当年预算（元）")
    prior_year_budget: Annotated[Money, Meta(Kind.MONEY)] = _title("同名项目上年预算额（元）")
    prior_year_executed: Annotated[Money, Meta(Kind.MONEY)] = _title("同名项目上年预算执行数（元）")
    fiscal_funds: Annotated[Money, Meta(Kind.MONEY, spellings=("其中：财政拨款", "财政资金", "其中财政拨款"),
                                        new=True)] = _title("财政拨款")
    other_funds: Annotated[Money, Meta(Kind.MONEY, spellings=("其他资金", "其中：其他资金", "自有资金"), new=True)] \
        = _title("其他资金")


@record
class Indicator(Record):
    """One row of an indicator table. Every cell is kept as written: ``target`` is the 指标值 cell, never a parsed
    value; a form with separate comparator, unit, direction, weight, history or note columns keeps each in its key."""

    level1: Annotated[Text, Meta(Kind.TEXT, spellings=("一级指标",))] = _title("一级目标")
    level2: Annotated[Text, Meta(Kind.TEXT, spellings=("二级指标",))] = _title("二级目标")
    name: Annotated[Text, Meta(Kind.TEXT, spellings=("三级指标", "三级指标名称", "指标名称", "指标内容",
                                                     "绩效指标名称", "三级目标名称"))] = _title("三级目标")
    comparator: Annotated[Text, Meta(Kind.CHOICE, "comparator", ("指标性质", "计算符号", "运算符号", "比较符号",
                                                                  "符号", "指标值符号"), new=True)] = \
        _title("比较符号")
    target: Annotated[Text, Meta(Kind.TEXT, spellings=("指标值", "目标值", "年度指标值", "指标目标", "本年度计划水平",
                                                       "年度目标值", "指标值（年度）", "绩效目标值"))] = \
        _title("指标目标值")
    unit: Annotated[Text, Meta(Kind.TEXT, spellings=("度量单位", "计量单位", "单位"), new=True)] = _title("计量单位")
    direction: Annotated[Text, Meta(Kind.CHOICE, "direction", ("方向", "指标方向性"), new=True)] = _title("指标方向")
    weight: Annotated[Text, Meta(Kind.NUMBER, spellings=("权重（%）", "权重(%)", "权（分）重", "分值", "指标权重"),
                                 new=True)] = _title("权重")
    history: Annotated[Text, Meta(Kind.TEXT, spellings=("上年实际", "上年度实际水平", "上年实际完成值", "上年完成值",
                                                        "历史值", "上年指标值"), new=True)] = _title("上年实际值")
    note: Annotated[Text, Meta(Kind.TEXT, spellings=("指标值说明", "说明", "指标解释", "指标说明"), new=True)] = \
        _title("备注")
    period: Annotated[Period | None, Meta(Kind.PERIOD, new=True)] = _title("指标期间")


# The indicator columns whose value is a text cell as ``clean_text`` leaves it (every column but the period): a
# caller that cleaned its cells so holds the row the model would, with no model made (the add-in's functions).
TEXT_COLUMNS = frozenset(d.name for d in fields_of(Indicator)
                         if d.meta is not None and VALIDATORS.get(d.meta.kind) is clean_text)
_INDICATOR_EMPTY: dict[str, Any] = dict(Indicator._fields.empty)


def indicator_row(level1: Any, level2: Any, name: Any, target: Any, period: Any) -> Indicator:
    """``Indicator(level1=…, level2=…, name=…, target=…, period=…)``: a table row of the four core columns, as
    readers build one for each row of a table. The same checks as the constructor's, written out for these five
    keys (no keyword dict, no loop over it), which halves the model's part of a row; any value they do not pass
    goes to the constructor, and so through pydantic where it must."""
    if (level1 is None or (level1.__class__ is str and level1.isprintable() and len(level1) <= MAX_CELL_CHARS)) \
            and (level2 is None or (level2.__class__ is str and level2.isprintable()
                                    and len(level2) <= MAX_CELL_CHARS)) \
            and (name is None or (name.__class__ is str and name.isprintable() and len(name) <= MAX_CELL_CHARS)) \
            and (target is None or (target.__class__ is str and target.isprintable()
                                    and len(target) <= MAX_CELL_CHARS)) \
            and (period is None or (period.__class__ is str and period in _PERIODS)):
        values = dict(_INDICATOR_EMPTY)  # every column, in the declared order
        values["level1"] = None if level1 is None else level1.strip() or None
        values["level2"] = None if level2 is None else level2.strip() or None
        values["name"] = None if name is None else name.strip() or None
        values["target"] = None if target is None else target.strip() or None
        values["period"] = period
        return built(Indicator, values)
    return Indicator(level1=level1, level2=level2, name=name, target=target, period=period)


def indicator_read(level1: str | None, level2: str | None, name: str | None, target: str | None,
                   period: Period | None) -> Indicator:
    """``indicator_row`` for values a reader has just read and cleaned itself: each None or a text that
    ``isprintable``, fits a cell and is trimmed and not empty (what ``indicator_row`` would leave as it is), and
    ``period`` one of ``Period``'s or None. Nothing is looked at again: a reader's one pass over a long table has
    checked each cell once already. A caller that cannot promise this for every value calls ``indicator_row``."""
    values = dict(_INDICATOR_EMPTY)  # every column, in the declared order
    values["level1"] = level1
    values["level2"] = level2
    values["name"] = name
    values["target"] = target
    values["period"] = period
    return built(Indicator, values)


@record
class Declaration(Record):
    schema_version: Literal["1.0"] = _title("数据格式版本", default=SCHEMA_VERSION)
    profile: str = _title("表式版本", required=True)
    year: Annotated[int | None, Meta(Kind.YEAR, spellings=("年度", "申报年度", "预算年度"))] = _title("年度")
    unit_name: Annotated[Text, Meta(Kind.TEXT, spellings=("申报单位", "单位名称", "预算单位"))] = _title("申报单位名称")
    department: Annotated[Text, Meta(Kind.TEXT, spellings=("主管部门及代码", "主管部门名称", "预算部门",
                                                                       "项目主管部门", "主管单位"), new=True)] \
        = _title("主管部门")
    implementing_unit: Annotated[Text, Meta(Kind.TEXT, spellings=("项目实施单位",), new=True)] = _title("实施单位")
    project: Project = _title("项目基本信息", default_factory=Project)
    budget: Budget = _title("项目资金", default_factory=Budget)
    indicators: list[Indicator] = _title("绩效指标", default_factory=list)
