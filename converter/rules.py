"""The rule catalogue: every check the project makes, declared once.

Each rule is a code, a severity, a Chinese message template, an English description and, where there is
one, the official source. Checks are plain functions over the model, registered by scope:

* ``declaration`` — the whole form (required fields, dates, required groups, duplicates);
* ``budget`` — the four amounts (also what the add-in's ``PG_CHECK_BUDGET`` runs);
* ``indicator`` — one row of the indicator table (also what ``PG_CHECK_INDICATOR`` runs);
* ``reader`` — declared here so codes and messages live in one place, raised by the readers.

A check yields ``Hit`` values (field path and message parameters); the rule turns them into findings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from .fields import BUDGET_FIELDS, HEADER, get_field, header_paths
from .findings import Finding, Severity
from .model import Budget, Declaration, Indicator, Kind
from .profile import Profile, in_unit, load_profile, money_places, strip_unit
from .targets import (
    COMPARATORS,
    TargetParts,
    comparator_of,
    parse_target,
    row_parts,
)

Scope = Literal["reader", "declaration", "budget", "indicator"]

# Default sources name no document that only some forms rest on: what a form's version says (its fields, lists and
# indicator tree) is cited by that profile's ``rule_sources``, and ``rule_source`` gives the one that applies.
SRC_REQUIRED = "所用表式标注的必填项（带*）"
SRC_LISTS = "所用表式的下拉列表（各地、各年度不同）"
SRC_TREE = "所用表式的指标体系（一级、二级指标；各表式的依据见其版本说明）"
SRC_88 = "财预〔2015〕88号《中央部门预算绩效目标管理办法》：绩效目标应细化、量化，尽量定量表述"
SRC_SYSTEM = "省级预算管理一体化系统绩效指标规则：定量指标须有比较符号和计量单位，指标名称不超过100字"


@dataclass(frozen=True)
class Hit:
    """One occurrence of a rule: where (field path relative to the scope) and message parameters."""

    field: str | None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What an indicator or budget check may need beyond its own row."""

    profile: Profile
    year: int | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    carried_over: bool = False  # 结转 / 延续: dates and deadlines outside the budget year are expected

    @classmethod
    def of(cls, decl: Declaration) -> Context:
        p = decl.project
        return cls(load_profile(decl.profile), decl.year, p.start_date, p.end_date,
                   is_carried_over(p.category, p.attribute))


CheckFn = Callable[..., Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str
    message: str
    description: str
    scope: Scope
    source: str | None = None
    check: CheckFn | None = None

    def finding(self, field: str | None = None, **params: Any) -> Finding:
        # Built without validation: every part is ours and already of the right type, and rules make findings
        # in the hot paths of bulk conversion and of Excel's recalculation.
        return Finding.make(self.code, self.severity, self.message.format(**params), field)


CATALOGUE: dict[str, Rule] = {}


def declare(code: str, severity: Severity, title: str, message: str, description: str, scope: Scope,
            source: str | None = None, check: CheckFn | None = None) -> Rule:
    if code in CATALOGUE:
        raise ValueError(f"rule {code} declared twice")
    rule = Rule(code, severity, title, message, description, scope, source, check)
    CATALOGUE[code] = rule
    return rule


def rule(code: str, severity: Severity, title: str, message: str, description: str, scope: Scope,
         source: str | None = None) -> Callable[[CheckFn], CheckFn]:
    """Declare a rule and register the decorated function as its check."""

    def register(fn: CheckFn) -> CheckFn:
        declare(code, severity, title, message, description, scope, source, fn)
        return fn

    return register


def rule_source(rule: Rule, profile: Profile | None = None) -> str | None:
    """The source a rule rests on in a profile's form: the profile's own citation (``rule_sources``) where it
    has one, else the rule's default, which names no form-specific document."""
    return rule.source if profile is None else profile.rule_source(rule.code, rule.source)


CARRIED_OVER_WORDS = ("结转", "延续")  # in 项目类别 or 项目属性: the project began in an earlier year


def is_carried_over(category: str | None, attribute: str | None) -> bool:
    """A project carried over from earlier years (项目类别 结转项目, 项目属性 延续)."""
    return any(w in (text or "") for text in (category, attribute) for w in CARRIED_OVER_WORDS)


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# --------------------------------------------------------------------------------------------------
# Reader and file rules (raised by readers; declared here so every code and message is in one place)
# --------------------------------------------------------------------------------------------------
FILE_UNREADABLE = declare("F001", E, "文件无法读取", "文件无法读取：{reason}",
                          "The file could not be opened or parsed at all.", "reader")
FILE_UNKNOWN_FORMAT = declare("F002", E, "文件格式无法识别",
                              "无法识别的文件格式（支持 .xlsx/.xlsm/.xls/.ods 工作簿和申报表文本导出 .txt）",
                              "Neither a workbook nor a text export by content.", "reader")
FILE_NOT_DECLARATION = declare("F003", E, "未找到申报表",
                               "文件中没有找到“财政项目支出绩效目标申报表”（{detail}）",
                               "A readable file that holds no declaration form.", "reader")
FILE_ENCRYPTED = declare("F004", E, "文件已加密", "文件已加密，请去除密码后重新提交",
                         "Encrypted (password-protected) workbooks cannot be read.", "reader")
FILE_TOO_LARGE = declare("F005", E, "文件过大", "文件过大（{size}），超过上限 {limit}，未读取",
                         "Refused before reading to protect the batch.", "reader")
FILE_TIMEOUT = declare("F006", E, "处理超时", "文件处理超过 {limit}，已中止（文件可能被构造为耗尽资源）",
                       "A per-file time limit keeps one hostile file from holding the batch.", "reader")
FILE_SUSPICIOUS_PACKAGE = declare("F007", E, "压缩包异常", "文件的压缩结构异常（{reason}），为安全起见未解压",
                                  "Declared sizes are checked before anything is inflated (zip bombs).", "reader")
FILE_READER_CRASHED = declare("F008", E, "读取时异常退出", "读取该文件时程序异常退出（{reason}），已跳过",
                              "The reader died on this file (memory cap or a fault); the batch goes on.",
                              "reader")
ROW_REPAIRED = declare("R001", INFO, "已修正错位的指标行", "指标行错位已按词表修正：{before} → {after}",
                       "Copy-paste shifted an indicator row; the reader set it right from the vocabulary and "
                       "the shape of the row.", "reader")
CONTENT_UNPLACED = declare("R002", W, "无法识别的内容", "无法归入申报表任何栏目的内容：“{text}”",
                           "Content the reader could not place is reported, never dropped.", "reader")
DATE_UNPARSEABLE = declare("R003", E, "日期无法识别", "{label}“{value}”不是有效日期（应为 2020-01-01 或 2020/1/1）",
                           "A date cell whose text is not a date; the field is left empty.", "reader")
AMOUNT_UNPARSEABLE = declare("R004", E, "金额无法识别", "{label}“{value}”不是有效金额（以{unit}为单位的数字）",
                             "An amount cell that cannot be read as an amount in the form's unit; the field is left "
                             "empty.", "reader")
FLAG_UNPARSEABLE = declare("R005", E, "是/否无法识别", "{label}“{value}”应填“是”或“否”",
                           "A yes/no cell with another value; the field is left empty.", "reader")
HTML_CONVERTED = declare("R006", INFO, "已去除网页标记", "{label}含网页标记（{tags}），已转为纯文本并保留分段",
                         "HTML leaked into a long text from a web system; it became plain text.", "reader")
YEAR_UNPARSEABLE = declare("R007", E, "年度无法识别", "年度“{value}”无法识别",
                           "The form's year is not a four-digit year.", "reader")
INDICATOR_ROW_AMBIGUOUS = declare("R008", W, "指标行无法确定各列含义",
                                  "指标行“{text}”的各列含义无法确定，已按原位置读取，请核对",
                                  "A shifted row whose cells could not be placed with confidence.", "reader")
CONTROLS_REMOVED = declare("R010", INFO, "已删除控制字符", "{label}含不可见的控制字符，已删除",
                           "Control characters cannot be stored in a workbook and carry no meaning on a form.",
                           "reader")


AMOUNT_CONVERTED = declare("R011", INFO, "金额已按所写单位换算", "{label}填写为“{value}”，已按 {amount} 元读取",
                           "An amount typed with its own unit (50万元 in a form in 元) is converted exactly.", "reader")
FORMULA_BY_VALUE = declare("R012", W, "公式按计算结果读取",
                           "{label}是公式单元格，文件未保存公式原文（如 xls），已按计算结果“{value}”读取",
                           "xls files keep a formula's result but calamine cannot give its text; the value is read.",
                           "reader")
VALUE_TOO_LONG = declare("R013", E, "内容过长", "{label}内容过长（{length} 个字符，单元格最多 {limit} 个），未读取",
                         "A value longer than one Excel cell holds cannot be kept in a workbook; the rest of the "
                         "form is still read.", "reader")
ERROR_VALUE = declare("R017", E, "单元格是错误值", "{label}是错误值 {value}，未读取（请改为实际内容）",
                      "A cell holding #N/A, #DIV/0!… has no value to read; it is that cell's finding, not a "
                      "missing one.", "reader")
UNDECODABLE = declare("R016", W, "含无法识别的字符", "{label}中有无法识别的字节，已显示为“�”，请核对原文",
                      "A few bytes of a text export that decode in no expected encoding are kept as � at their "
                      "cell, and the rest of the file is read.", "reader")
CHOICE_TICKED = declare("R015", INFO, "已按勾选读取", "{label}填写为“{value}”，已按勾选读取为“{choice}”",
                        "A row of check boxes (新增项目□ 延续项目√) is read as the one option ticked.", "reader")
LEVEL1_INFERRED = declare("R014", INFO, "已根据二级指标推断一级指标",
                          "指标表没有“{level1}”列，已根据“{level2}”按本表式的指标体系推断",
                          "A table without a level-1 column takes level 1 from level 2 through the profile's "
                          "vocabulary.", "reader")


# --------------------------------------------------------------------------------------------------
# Header fields and dates
# --------------------------------------------------------------------------------------------------
@rule("H001", E, "必填项未填", "必填项“{label}”未填写",
      "Fields the form marks as required (*) must be filled.", "declaration", SRC_REQUIRED)
def required_fields(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    for path in ctx.profile.required_fields:
        if get_field(decl, path) is None:
            yield Hit(path, {"label": ctx.profile.label(path)})


@rule("H002", W, "建议填写项未填", "“{label}”未填写",
      "Fields without * that a usable declaration still needs.", "declaration")
def recommended_fields(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    for path in ctx.profile.recommended_fields:
        if get_field(decl, path) is None:
            yield Hit(path, {"label": ctx.profile.label(path)})


def _list_check(path: str) -> CheckFn:
    """A header field against the profile list its metadata names (``Meta.choices``): one binding, in the model."""
    choices = HEADER[path].choices
    assert choices is not None, f"{path} names no list"

    def check(decl: Declaration, ctx: Context) -> Iterator[Hit]:
        value = get_field(decl, path)
        items: tuple[str, ...] = getattr(ctx.profile.lists, choices)
        if value is not None and items and value not in items:
            yield Hit(path, {"label": ctx.profile.label(path), "value": value, "items": "、".join(items)})

    return check


_NOT_LISTED = "{label}“{value}”不在本表式的列表中（{items}）"
# Field path → the rule that holds it to its list: the template's list validation says that rule's title.
LIST_RULES: dict[str, Rule] = {}


def _list_rule(code: str, title: str, description: str, path: str) -> None:
    rule(code, W, title, _NOT_LISTED, description, "declaration", SRC_LISTS)(_list_check(path))
    LIST_RULES[path] = CATALOGUE[code]


_list_rule("H003", "项目类别不在列表中", "Lists change between years, so an unknown category is a warning, not a stop.",
           "project.category")
_list_rule("H004", "绩效类型不在列表中", "Lists change between years, so an unknown type is a warning, not a stop.",
           "project.performance_type")


@rule("D001", E, "完成日期早于开始日期", "{end_label} {end} 早于{start_label} {start}",
      "A project cannot end before it starts.", "declaration")
def end_after_start(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    start, end = decl.project.start_date, decl.project.end_date
    if start and end and end < start:
        yield Hit("project.end_date", {"start": start.isoformat(), "end": end.isoformat(),
                                       "start_label": ctx.profile.label("project.start_date"),
                                       "end_label": ctx.profile.label("project.end_date")})


@rule("D002", W, "日期不在申报年度附近", "{label} {value} 与申报年度 {year} 相差超过 {around} 年",
      "Plan dates are expected in or next to the budget year; far-off years are usually typing errors. A "
      "carried-over project (结转 / 延续) began or ends in other years by nature, so it is not warned.",
      "declaration")
def dates_near_year(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    if decl.year is None or ctx.carried_over:
        return
    around = ctx.profile.thresholds.date_years_around
    for path in header_paths(Kind.DATE):
        value = get_field(decl, path)
        if value is not None and abs(value.year - decl.year) > around:
            yield Hit(path, {"label": ctx.profile.label(path), "value": value.isoformat(), "year": decl.year,
                             "around": around})


# --------------------------------------------------------------------------------------------------
# Budget (amounts are 元 in the model; messages show them in the form's own unit)
# --------------------------------------------------------------------------------------------------
_BUDGET = "budget."
def amount_text(value: Decimal, profile: Profile) -> str:
    """An amount (元) as the form writes it: in its own unit, exact, with at least two places (1234567.89 元 →
    123.456789 in a form in 万元)."""
    places = money_places(profile.money_unit)
    text = f"{in_unit(value, profile.money_unit):.{places}f}"
    if places > 2:
        whole, _, fraction = text.partition(".")
        text = f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"
    return text


@rule("B001", E, "金额为负数", "{label}为负数（{value}）", "Amounts are never negative.", "budget")
def amounts_not_negative(budget: Budget, ctx: Context) -> Iterator[Hit]:
    for path in BUDGET_FIELDS:
        value: Decimal | None = getattr(budget, path.removeprefix(_BUDGET))
        if value is not None and value < 0:
            yield Hit(path, {"label": ctx.profile.label(path), "value": amount_text(value, ctx.profile)})


def _not_above(part: str, whole: str) -> CheckFn:
    """The amount at ``part`` does not exceed the one at ``whole``."""

    def check(budget: Budget, ctx: Context) -> Iterator[Hit]:
        x: Decimal | None = getattr(budget, part.removeprefix(_BUDGET))
        y: Decimal | None = getattr(budget, whole.removeprefix(_BUDGET))
        if x is not None and y is not None and x > y:
            yield Hit(part, {"part": amount_text(x, ctx.profile), "whole": amount_text(y, ctx.profile),
                             "part_label": strip_unit(ctx.profile.label(part)),
                             "whole_label": strip_unit(ctx.profile.label(whole)), "unit": ctx.profile.money_unit})

    return check


_ABOVE = "{part_label} {part} {unit}大于{whole_label} {whole} {unit}"
current_within_total = rule("B002", E, "当年预算超过总预算", _ABOVE,
                            "This year's budget is part of the project's total budget.", "budget")(
    _not_above("budget.current_year", "budget.total"))
executed_within_budget = rule("B003", E, "上年执行数超过上年预算", _ABOVE,
                              "Spending cannot exceed the budget it was spent from.", "budget")(
    _not_above("budget.prior_year_executed", "budget.prior_year_budget"))


# --------------------------------------------------------------------------------------------------
# Indicators, row by row
# --------------------------------------------------------------------------------------------------
RATE_WORD, RATE_EXCLUDED = "率", "效频功速概"  # a rate's name holds 率, but 效率, 频率… are no rates
SATISFACTION_WORD = "满意度"
_RATE = re.compile(f"(?<![{RATE_EXCLUDED}]){RATE_WORD}")
_SATISFACTION = SATISFACTION_WORD
# A growth or change rate may exceed 100% (增长率 150%); a completion, pass or execution rate may not.
_CHANGE_RATE = re.compile(r"增长|增加|增幅|增速|涨幅|下降|降低|降幅|减少|减幅|提高|提升|变化|变动|同比|环比")
_BUDGET_RATE = re.compile(r"执行率|到位率")
_MEASURE_WORDS = ("数量", "次数", "人数", "个数", "件数", "户数", "面积", "时长", "时间", "时限", "天数", "周期",
                  "长度", "金额")
VAGUE_TERMS = ("明显改善", "进一步提升", "进一步提高", "进一步", "明显", "显著", "有所", "逐年上升", "逐步",
               "同比下降", "同比上升", "提高", "提升", "加大", "加强", "增强", "上升", "下降", "缩短", "增加",
               "减少", "降低", "改善", "较好", "较高", "较大")
# A vague term right after a negation states an absence, which is assessable: 无明显影响, 不产生明显污染,
# 未发生明显下降, 服务质量不降低. Only degree words may stand between (无任何明显…); 不断提高 stays vague.
_NEGATION_WORDS = ("无", "不", "未", "没有", "零", "杜绝", "避免", "防止", "不产生", "不发生", "不出现", "不造成",
                   "不存在", "不会", "不得", "不致", "未发生", "未出现", "未造成")
_DEGREE_WORDS = ("任何", "明显", "显著", "较大", "大幅", "严重", "重大", "的")
_NEGATED = re.compile(f"(?:{'|'.join(_NEGATION_WORDS)})(?:{'|'.join(_DEGREE_WORDS)})*$")


def is_rate_name(name: str | None) -> bool:
    return bool(name) and _RATE.search(name or "") is not None and _SATISFACTION not in (name or "")


def is_satisfaction_name(name: str | None) -> bool:
    return bool(name) and _SATISFACTION in (name or "")


def is_change_rate_name(name: str | None) -> bool:
    """A growth or change rate (增长率, 下降率, 增幅…): the one kind of rate that may exceed 100%."""
    return bool(name) and _CHANGE_RATE.search(name or "") is not None


def _is_measure_name(name: str | None) -> bool:
    return bool(name) and any(w in (name or "") for w in _MEASURE_WORDS)


def _percent_name(name: str | None) -> bool:
    """Rates and satisfaction are percentages: I008 / I009 give the verdict on any other target of theirs."""
    return is_rate_name(name) or is_satisfaction_name(name)


def _parts(ind: Indicator) -> TargetParts:
    """The row's target as the rules see it: its comparator and unit columns where the form has them."""
    return row_parts(ind.target, ind.comparator, ind.unit)


def _shown(ind: Indicator) -> str:
    """The target as a reviewer reads it: with the row's comparator and unit cells around it where the form has
    them and the target's own text does not already say them (``≥`` ``95`` ``%`` → ≥95%)."""
    target = ind.target or ""
    if ind.comparator is None and ind.unit is None:
        return target
    own = parse_target(target)
    numeric = own.kind == "quantitative"
    prefix = ind.comparator if numeric and own.comparator is None and comparator_of(ind.comparator) in COMPARATORS \
        else None
    unit = ind.unit if numeric and own.unit is None else None
    return f"{prefix or ''}{target}{unit or ''}"


def _row(ind: Indicator, ctx: Context) -> dict[str, Any]:
    return {"level1": ind.level1, "level2": ind.level2, "name": ind.name or "", "target": _shown(ind),
            "label": ctx.profile.column_label("target")}


def _field_for(ctx: Context, key: str) -> str:
    """Where a missing comparator or unit is reported: its own column where the form has one, else the target."""
    return key if any(c.key == key for c in ctx.profile.form.table.columns) else "target"


def _column_hit(key: str, ctx: Context, **params: Any) -> Hit:
    """A hit on one column of the row, its message naming the column as the form prints it."""
    return Hit(key, {"label": ctx.profile.column_label(key), **params})


@rule("I001", E, "一级目标未填", "第{row}行指标的{label}未填写", "Every indicator sits under a level-1 group.",
      "indicator")
def level1_present(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.level1 is None:
        yield _column_hit("level1", ctx, row=row)


@rule("I002", E, "一级目标不在本表式中", "{label}“{level1}”不是本表式的{label}（应为：{items}）",
      "The level-1 groups are fixed by the form's version.", "indicator", SRC_TREE)
def level1_known(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.level1 is not None and ctx.profile.canonical_level1(ind.level1) is None:
        yield _column_hit("level1", ctx, level1=ind.level1, items="、".join(ctx.profile.level1_names()))


@rule("I003", E, "二级目标未填", "第{row}行指标的{label}未填写", "Every indicator sits under a level-2 group.",
      "indicator")
def level2_present(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.level2 is None:
        yield _column_hit("level2", ctx, row=row)


@rule("I004", W, "二级目标不在列表中", "{label}“{level2}”不在“{level1}”下的常用列表中（{items}）",
      "Level-2 lists are known from samples and guidance, not a closed official list: a warning.",
      "indicator", SRC_TREE)
def level2_known(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    level1 = ctx.profile.canonical_level1(ind.level1)
    if ind.level2 is None or level1 is None:
        return
    if ctx.profile.canonical_level2(ind.level2) is None:
        yield _column_hit("level2", ctx, level1=level1, level2=ind.level2,
                          items="、".join(ctx.profile.level2_names(level1)))


@rule("I005", E, "二级目标与一级目标不对应", "{label}“{level2}”属于“{owner}”，不应放在“{level1}”下",
      "A level-2 group belongs under its own level-1 group.", "indicator", SRC_TREE)
def level2_under_own_level1(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    level1 = ctx.profile.canonical_level1(ind.level1)
    found = ctx.profile.canonical_level2(ind.level2)
    if level1 is not None and found is not None and found[0] != level1:
        yield _column_hit("level2", ctx, level2=ind.level2, owner=found[0], level1=ind.level1)


@rule("I006", E, "指标名称未填", "第{row}行指标（{level1}/{level2}）的{label}未填写",
      "An indicator without a name cannot be assessed.", "indicator")
def name_present(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.name is None:
        yield Hit("name", {"row": row, "level1": ind.level1 or "?", "level2": ind.level2 or "?",
                           "label": ctx.profile.column_label("name")})


@rule("I007", E, "指标目标值未填", "指标“{name}”没有填写{label}", "Every indicator needs a target value.",
      "indicator", SRC_88)
def target_present(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None and ind.name is not None:
        yield Hit("target", _row(ind, ctx))


@rule("I008", E, "比率指标目标值不是百分数", "“{name}”是比率类指标，{label}“{target}”应为百分数（例如 ≥95%）",
      "A rate (name with 率) is a percentage.", "indicator", SRC_SYSTEM)
def rate_is_percent(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is not None and is_rate_name(ind.name) and not _parts(ind).is_percent:
        yield Hit("target", _row(ind, ctx))


@rule("I009", E, "满意度目标值不是百分数", "满意度指标“{name}”的{label}“{target}”应为百分数（例如 ≥90%）",
      "Satisfaction is surveyed as a percentage; a target without % cannot be compared.", "indicator",
      SRC_SYSTEM)
def satisfaction_is_percent(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is not None and is_satisfaction_name(ind.name) and not _parts(ind).is_percent:
        yield Hit("target", _row(ind, ctx))


@lru_cache(maxsize=64)
def _threshold(value: float) -> Decimal:
    """A profile threshold as a Decimal that prints as written (80, not 80.0)."""
    number = Decimal(str(value))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def _floor(ind: Indicator) -> Decimal | None:
    parts = _parts(ind)
    if parts.is_percent and parts.comparator in ("≥", ">", "=") and parts.number is not None:
        return parts.number
    return None


@rule("I010", W, "满意度目标偏低", "满意度指标“{name}”的{label} {target} 低于常见水平 {floor}%",
      "No official floor was found; practice is 80–95%, kept as a profile threshold.", "indicator")
def satisfaction_floor(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    floor = _threshold(ctx.profile.thresholds.satisfaction_min_percent)
    if ind.target is not None and is_satisfaction_name(ind.name):
        value = _floor(ind)
        if value is not None and value < floor:
            yield Hit("target", {**_row(ind, ctx), "floor": floor})


@rule("I011", W, "预算执行类指标目标偏低", "“{name}”的{label} {target} 低于常见水平 {floor}%",
      "Execution and funds-arrival rates are normally =100% or a high floor.", "indicator")
def budget_rate_floor(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    floor = _threshold(ctx.profile.thresholds.budget_rate_min_percent)
    if ind.target is not None and _BUDGET_RATE.search(ind.name or "") and not is_satisfaction_name(ind.name):
        value = _floor(ind)
        if value is not None and value < floor:
            yield Hit("target", {**_row(ind, ctx), "floor": floor})


@rule("I012", E, "计量类指标缺少数值", "“{name}”是数量、次数、面积或时间类指标，{label}“{target}”应含具体数值",
      "An indicator that counts or measures is assessed against a number.", "indicator", SRC_88)
def measure_has_number(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None or not _is_measure_name(ind.name) or _percent_name(ind.name):
        return  # a rate named 时间达标率 is I008's to judge
    if _parts(ind).kind == "qualitative":
        yield Hit("target", _row(ind, ctx))


def vague_term(target: str) -> str | None:
    """The first vague term of a target that is not negated (无明显影响 states an absence, which is assessable)."""
    for term in VAGUE_TERMS:
        start = target.find(term)
        while start >= 0:
            if not _NEGATED.search(target, 0, start):
                return term
            start = target.find(term, start + 1)
    return None


@rule("I013", W, "目标值不可衡量",
      "指标“{name}”的{label}“{target}”含“{term}”等模糊表述，无法衡量，请给出具体数值或分级",
      "Targets such as 明显改善 or 进一步提升 cannot be assessed at year end; a negated one (无明显影响) can.",
      "indicator", SRC_88)
def target_measurable(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None or _percent_name(ind.name) or _is_measure_name(ind.name):
        return  # I008, I009 and I012 already give this row's target its verdict
    if _parts(ind).kind != "qualitative":
        return
    term = vague_term(ind.target)
    if term is not None:
        yield Hit("target", {**_row(ind, ctx), "term": term})


@rule("I014", W, "定量指标缺少计量单位", "指标“{name}”的{label}“{target}”有数值但没有{what}",
      "Quantitative indicators carry a unit of measurement; a form's own unit column (度量单位) satisfies it.",
      "indicator", SRC_SYSTEM)
def quantitative_has_unit(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None or _percent_name(ind.name):
        return  # I008/I009 already say what a rate or satisfaction target needs
    parts = _parts(ind)
    if parts.kind == "quantitative" and parts.unit is None and parts.text is None:
        yield Hit(_field_for(ctx, "unit"), {**_row(ind, ctx), "what": ctx.profile.column_label("unit")})


@rule("I015", W, "指标名称过长", "{label}超过 {limit} 个字（{length} 个字）",
      "Budget systems limit indicator names to 100 characters.", "indicator", SRC_SYSTEM)
def name_length(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    limit = ctx.profile.thresholds.indicator_name_max_chars
    if ind.name and len(ind.name) > limit:
        yield Hit("name", {"limit": limit, "length": len(ind.name), "label": ctx.profile.column_label("name")})


@rule("I016", W, "时限晚于计划完成日期", "指标“{name}”的时限“{target}”（{deadline}）{problem}",
      "A time-limit target is expected by the plan's completion date and, unless the project is carried over "
      "(结转 / 延续) or the indicator is a long-term one, inside the budget year.", "indicator")
def deadline_within_plan(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None or _percent_name(ind.name):
        return
    due = _parts(ind).deadline(ctx.year)
    if due is None:
        return
    if ctx.end_date is not None and due > ctx.end_date:
        yield Hit("target", {**_row(ind, ctx), "deadline": due.isoformat(),
                             "problem": f"晚于{ctx.profile.label('project.end_date')} {ctx.end_date.isoformat()}"})
    elif ctx.year is not None and due.year != ctx.year and not ctx.carried_over and ind.period != "long_term":
        yield Hit("target", {**_row(ind, ctx), "deadline": due.isoformat(), "problem": f"不在申报年度 {ctx.year} 内"})



def _over_100(ind: Indicator) -> bool:
    """A completion, pass or satisfaction percentage beyond what can happen (>100%, or ">100%")."""
    if not _percent_name(ind.name) or is_change_rate_name(ind.name):
        return False
    parts = _parts(ind)
    if not parts.is_percent or parts.number is None:
        return False
    return parts.number > 100 or (parts.number == 100 and parts.comparator == ">")


@rule("I017", E, "比率超过100%", "“{name}”的{label}“{target}”超过 100%（只有增长率、变化率一类可以超过 100%）",
      "Completion, pass, execution and satisfaction rates cannot exceed 100%; growth and change rates can. "
      "Reported instead of a missing comparator on the same row.", "indicator", SRC_SYSTEM)
def rate_within_100(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is not None and _over_100(ind):
        yield Hit("target", _row(ind, ctx))


def _comparator_unreadable(ind: Indicator) -> bool:
    return ind.comparator is not None and comparator_of(ind.comparator) is None


def _comparator_items(ctx: Context) -> str:
    return "、".join(ctx.profile.lists.comparator)


@rule("I018", W, "百分数缺少比较符号", "“{name}”的{label}“{target}”是百分数，但没有{what}（{items}）",
      "A percentage target is compared with a symbol (≥95%); without one the intent is unclear, so a warning. "
      "A form's own comparator column (指标性质 / 计算符号) satisfies it.", "indicator", SRC_SYSTEM)
def percent_has_comparator(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None or _over_100(ind) or _comparator_unreadable(ind):
        return
    parts = _parts(ind)
    if parts.is_percent and parts.comparator is None and parts.text is None:  # 提高30% says it in words
        items = "、".join(c for c in ctx.profile.lists.comparator if comparator_of(c) in COMPARATORS)
        yield Hit(_field_for(ctx, "comparator"), {**_row(ind, ctx), "items": items,
                                                  "what": ctx.profile.column_label("comparator")})


@rule("I019", W, "比较符号无法识别", "指标“{name}”的{label}“{value}”无法识别（应为：{items}）",
      "A comparator column (指标性质 / 计算符号) holds one of the form's symbols or 定性.", "indicator", SRC_SYSTEM)
def comparator_known(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if _comparator_unreadable(ind):
        yield Hit("comparator", {"name": ind.name or "", "value": ind.comparator,
                                 "label": ctx.profile.column_label("comparator"), "items": _comparator_items(ctx)})

# --------------------------------------------------------------------------------------------------
# The indicator table as a whole
# --------------------------------------------------------------------------------------------------
@rule("G001", E, "没有绩效指标", "申报表没有填写任何绩效指标", "A declaration needs indicators.", "declaration",
      SRC_88)
def has_indicators(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    if not decl.indicators:
        yield Hit("indicators")


@rule("G002", W, "缺少一级目标", "缺少{label}“{level1}”的指标",
      "Each level-1 group the form's version requires (its ``required_groups``, e.g. 成本指标 in Shanghai 2025) "
      "is expected; unconfirmed as a hard rule, so a warning.", "declaration", SRC_TREE)
def level1_groups_present(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    if not decl.indicators:
        return
    present = _canonical(ctx.profile.canonical_level1, set(map(_LEVEL1, decl.indicators)))
    for level1 in ctx.profile.required_groups:
        if level1 not in present:
            yield Hit("indicators", {"level1": level1, "label": ctx.profile.column_label("level1")})


@rule("G003", W, "缺少二级目标", "“{level1}”下缺少{label}“{level2}”的指标",
      "The profile names the level-2 groups a form is expected to cover.", "declaration", SRC_TREE)
def level2_groups_present(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    present = _canonical(ctx.profile.canonical_level1, set(map(_LEVEL1, decl.indicators)))
    groups = _canonical(ctx.profile.canonical_level2, set(map(_LEVEL2, decl.indicators)))
    for level1, level2s in ctx.profile.required_groups.items():
        if level1 not in present:
            continue  # G002 already says the whole group is missing
        for level2 in level2s:
            if (level1, level2) not in groups:
                yield Hit("indicators", {"level1": level1, "level2": level2,
                                         "label": ctx.profile.column_label("level2")})


@rule("G004", W, "指标重复", "指标“{name}”重复出现（另见第{first}行）",
      "The same indicator twice in one table is usually a copy-paste slip (a long-term and an annual table may "
      "share names).", "declaration")
def no_duplicates(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    seen: dict[tuple[str | None, str | None, str], int] = {}
    known = {v: ctx.profile.canonical_level2(v) and v for v in set(map(_LEVEL2, decl.indicators))}
    for i, (name, level2, period) in enumerate(map(_DUPLICATE_KEY, decl.indicators)):
        if name is None:
            continue
        # "".join(split()) drops what r"\s+" matches (both use str.isspace), at a fifth of a substitution's cost
        key = (period, known[level2], "".join(name.split()))
        if key in seen:
            yield Hit(f"indicators[{i}].name", {"name": name, "first": seen[key] + 1})
        else:
            seen[key] = i


_LEVEL1, _LEVEL2 = operator.attrgetter("level1"), operator.attrgetter("level2")
_DUPLICATE_KEY = operator.attrgetter("name", "level2", "period")


def _canonical(canonical: Callable[[str | None], Any], values: set[str | None]) -> set[Any]:
    """The profile's names for a table's level values, each distinct value looked up once (a table repeats a few
    levels over all its rows)."""
    return {canonical(v) for v in values}


# --------------------------------------------------------------------------------------------------
# Across the files of a batch (run by ``crossfile`` in bulk conversion: no declaration alone can tell)
# --------------------------------------------------------------------------------------------------
RESUBMITTED = declare(
    "X001", W, "同一项目重复申报",
    "{unit}的项目“{project}”（{year}）在 {first} 和 {second} 中都有申报，可能是重复提交",
    "The same project of the same unit and year declared in two files of a batch is usually a resubmission; "
    "the centre decides which one stands.", "declaration")
PRIOR_BUDGET_DIFFERS = declare(
    "X002", W, "上年预算额与上年申报不符",
    "{prior_label} {prior} {unit}与 {file} 中 {year} 年度申报的{total_label} {total} {unit}不一致",
    "Where a batch holds the same project's declaration of the year before, the prior-year budget this form "
    "states is expected to be the total declared then.", "declaration")
PRIOR_EXECUTION = declare(
    "X003", INFO, "上年预算执行情况",
    "{executed_label} {executed} {unit}，为 {file} 中 {year} 年度申报的{total_label} {total} {unit}的 {rate}%",
    "The prior-year spending set against the total declared the year before, for the reviewer.", "declaration")


# --------------------------------------------------------------------------------------------------
# Running the catalogue
# --------------------------------------------------------------------------------------------------
_BY_SCOPE: dict[Scope, list[Rule]] = {}


def _rules(scope: Scope) -> list[Rule]:
    """The checking rules of a scope, in catalogue order (computed once: the live functions call this often)."""
    if scope not in _BY_SCOPE:
        _BY_SCOPE[scope] = [r for r in CATALOGUE.values() if r.scope == scope and r.check is not None]
    return _BY_SCOPE[scope]


def _run(rule_: Rule, hits: Iterable[Hit], prefix: str = "") -> Iterator[Finding]:
    for hit in hits:
        path = None if hit.field is None else f"{prefix}{hit.field}"
        yield rule_.finding(path, **hit.params)


# An indicator row as the rules' caches key it: every column of the model, in the model's order, so that
# whatever a rule reads (comparator, unit, period…) is part of the key by construction.
ROW_KEYS: tuple[str, ...] = tuple(Indicator.model_fields)
Row = tuple[Any, ...]


_ROW_OF = operator.attrgetter(*ROW_KEYS)


def row_of(ind: Indicator) -> Row:
    return _ROW_OF(ind)  # a tuple of the columns: ROW_KEYS are several


def row_key(**values: Any) -> Row:
    """A row from some of its columns (``level1=…, target=…``); the others are empty."""
    unknown = set(values) - set(ROW_KEYS)
    if unknown:
        raise TypeError(f"not indicator columns: {sorted(unknown)}")
    return tuple(values.get(k) for k in ROW_KEYS)


@lru_cache(maxsize=16384)
def _indicator_hits(row: Row, profile: str, year: int | None, end_date: dt.date | None, carried_over: bool
                    ) -> tuple[tuple[Rule, str | None, tuple[tuple[str, Any], ...]], ...]:
    """What the indicator rules say of a row's content, remembered: the same rows (预算执行率 ≥80%…) recur
    in form after form of a batch, and on every recalculation in Excel. The row number is filled in later."""
    ctx = Context(load_profile(profile), year, None, end_date, carried_over)
    ind = Indicator(**dict(zip(ROW_KEYS, row, strict=True)))  # pydantic-core validates faster than model_construct
    return tuple((r, hit.field, tuple(hit.params.items())) for r in _rules("indicator")
                 for hit in r.check(ind, ctx, 0))  # type: ignore[misc]


@lru_cache(maxsize=32768)
def indicator_findings(row: Row, profile: str, year: int | None = None, end_date: dt.date | None = None,
                       carried_over: bool = False, index: int = 0) -> tuple[Finding, ...]:
    """The findings of a row (``row_of`` / ``row_key``) with this content at this place in the table (findings
    are immutable, so they are shared)."""
    hits = _indicator_hits(row, profile, year, end_date, carried_over)
    return tuple(r.finding(None if field is None else f"indicators[{index}].{field}",
                           **{**dict(params), "row": index + 1}) for r, field, params in hits)


def check_indicator(ind: Indicator, ctx: Context, index: int = 0) -> list[Finding]:
    """Findings of one indicator row; ``index`` is its place in the table (0-based). Indicator rules see the
    profile, the year, the completion date and whether the project is carried over, nothing else."""
    return list(indicator_findings(row_of(ind), ctx.profile.name, ctx.year, ctx.end_date, ctx.carried_over, index))


def indicator_severities(ind: Indicator, ctx: Context) -> list[Severity]:
    """The severity of each finding of one row, in ``check_indicator``'s order, as plain data and uncached: a
    count of verdicts (the add-in's sheet summary, on every recalculation) needs neither messages nor Finding
    models, and its caller keeps what it counted keyed by the row. ``ctx`` as for ``check_indicator``."""
    return [r.severity for r in _rules("indicator") for _hit in r.check(ind, ctx, 0)]  # type: ignore[misc]


def indicator_messages(ind: Indicator, ctx: Context, index: int = 0) -> list[tuple[Severity, str]]:
    """Severity and message of each finding of one row, the same as ``check_indicator``'s, as plain data and
    uncached: what the add-in shows beside a row, without a Finding model each; its caller keeps the text."""
    return [(r.severity, r.message.format(**{**hit.params, "row": index + 1}))
            for r in _rules("indicator") for hit in r.check(ind, ctx, 0)]  # type: ignore[misc]


def check_budget(budget: Budget, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for r in _rules("budget"):
        assert r.check is not None
        out.extend(_run(r, r.check(budget, ctx)))
    return out


def check_table(decl: Declaration, ctx: Context) -> list[Finding]:
    """The rules over the indicator table as a whole (G…): what a sheet summary adds to its rows' findings."""
    out: list[Finding] = []
    for r in _rules("declaration"):
        if r.code.startswith("G"):
            assert r.check is not None
            out.extend(_run(r, r.check(decl, ctx)))
    return out


def check(decl: Declaration) -> list[Finding]:
    """Every rule of the catalogue over one declaration, in a stable order."""
    name = decl.project.name
    return [f.located(project=name) for f in rule_findings(decl)]


def rule_findings(decl: Declaration) -> list[Finding]:
    """``check`` before it names the project: a reader locates each finding once, with its file, sheet, cell
    and project together (a copy of a finding costs more than a rule's verdict on a remembered row)."""
    ctx = Context.of(decl)
    out: list[Finding] = []
    for r in _rules("declaration"):
        assert r.check is not None
        out.extend(_run(r, r.check(decl, ctx)))
    out.extend(check_budget(decl.budget, ctx))
    profile, year, end_date, carried_over = ctx.profile.name, ctx.year, ctx.end_date, ctx.carried_over
    for i, row in enumerate(map(_ROW_OF, decl.indicators)):  # row_of, row by row
        found = indicator_findings(row, profile, year, end_date, carried_over, i)
        if found:
            out.extend(found)
    return out
