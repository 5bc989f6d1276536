"""The rule catalogue: every check the project makes, declared once.

Each rule is a code, a severity, a Chinese message template, an English description and, where there is
one, the official source. Checks are plain functions over the model, registered by scope:

* ``declaration`` — the whole form (required fields, dates, required groups, duplicates);
* ``budget`` — the four amounts (also what the add-in's ``PG_CHECK_BUDGET`` runs);
* ``indicator`` — one row of the indicator table (also what ``PG_CHECK_INDICATOR`` runs);
* ``reader`` — declared here so codes and messages live in one place, raised by the readers.

A declaration or budget check yields ``Hit`` values (field path and message parameters); a row check is a plain
test over the row's facts (``rule_facts.RowFacts``, worked out once per row and shared by every row rule) that
returns one ``Hit`` or None. What the row rules say of a row's content is remembered, so a row met again (in the
next form of a batch, on Excel's next recalculation) costs a look-up. Verdicts stay plain data — (code, severity,
message, field) — until a caller makes Finding models of them (``rule_verdicts``, ``check``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from .fields import BUDGET_FIELDS, HEADER, get_field, header_paths
from .findings import Finding, Severity
from .model import Budget, Declaration, Indicator, Kind, fields_of
from .profile import Profile, in_unit, load_profile, money_places, strip_unit
from .rule_facts import RATE_EXCLUDED as RATE_EXCLUDED  # the rule words, for the template's formulas
from .rule_facts import RATE_WORD as RATE_WORD
from .rule_facts import SATISFACTION_WORD as SATISFACTION_WORD
from .rule_facts import FormFacts, RowFacts, facts_of, form_facts

Scope = Literal["reader", "declaration", "budget", "indicator"]

# Default sources name no document that only some forms rest on: what a form's version says (its fields, lists and
# indicator tree) is cited by that profile's ``rule_sources``, and ``rule_source`` gives the one that applies.
SRC_REQUIRED = "所用表式标注的必填项（带*）"
SRC_LISTS = "所用表式的下拉列表（各地、各年度不同）"
SRC_TREE = "所用表式的指标体系（一级、二级指标；各表式的依据见其版本说明）"
SRC_88 = "财预〔2015〕88号《中央部门预算绩效目标管理办法》：绩效目标应细化、量化，尽量定量表述"
SRC_SYSTEM = "省级预算管理一体化系统绩效指标规则：定量指标须有比较符号和计量单位，指标名称不超过100字"


_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class Hit(NamedTuple):
    """One occurrence of a rule: where (field path relative to the scope) and message parameters."""

    field: str | None
    params: Mapping[str, Any] = _NO_PARAMS


@dataclass(frozen=True)
class Context:
    """What an indicator or budget check may need beyond its own row."""

    profile: Profile
    year: int | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    carried_over: bool = False  # 结转 / 延续: dates and deadlines outside the budget year are expected
    # The declaration's indicator table by column (each key of ``ROW_KEYS`` → its value in every row), made once
    # for all the table's rules where the caller has the rows anyway (``rule_verdicts``); None: each rule reads
    # the declaration's indicators itself (``_column``).
    table: Mapping[str, tuple[Any, ...]] | None = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, decl: Declaration, rows: list[Row] | None = None) -> Context:
        """The context of a declaration; with ``rows`` (``row_of`` each of its indicators, in order), its table
        by column too."""
        p = decl.project
        return cls(load_profile(decl.profile), decl.year, p.start_date, p.end_date,
                   is_carried_over(p.category, p.attribute), None if rows is None else by_column(rows))


def by_column(rows: Sequence[Row]) -> dict[str, tuple[Any, ...]]:
    """A table's rows (``row_of`` each) by column: ``Context.table``."""
    return dict(zip(ROW_KEYS, zip(*rows, strict=True), strict=True)) if rows else dict.fromkeys(ROW_KEYS, ())


CheckFn = Callable[..., Iterable[Hit]]  # a declaration or budget rule: its hits
AnyCheck = Callable[..., Any]  # a CheckFn, or a row rule's ``RowCheck`` (one hit or None)


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str
    message: str
    description: str
    scope: Scope
    source: str | None = None
    check: AnyCheck | None = None

    def finding(self, field: str | None = None, **params: Any) -> Finding:
        # Built without validation: every part is ours and already of the right type, and rules make findings
        # in the hot paths of bulk conversion and of Excel's recalculation.
        return Finding.make(self.code, self.severity, self.message.format(**params), field)


CATALOGUE: dict[str, Rule] = {}


def declare(code: str, severity: Severity, title: str, message: str, description: str, scope: Scope,
            source: str | None = None, check: AnyCheck | None = None) -> Rule:
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
    for text in (category, attribute):
        if text:
            for word in CARRIED_OVER_WORDS:
                if word in text:
                    return True
    return False


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
    return _empty_fields(decl, ctx, ctx.profile.required_fields)


@lru_cache(maxsize=64)
def _values_at(paths: tuple[str, ...]) -> Callable[[Declaration], tuple[Any, ...]]:
    """The values at several paths in one call (a profile's required or recommended fields)."""
    if len(paths) > 1:
        return operator.attrgetter(*paths)  # a tuple of the values
    one = operator.attrgetter(*paths) if paths else None
    return lambda decl: () if one is None else (one(decl),)


def _empty_fields(decl: Declaration, ctx: Context, paths: tuple[str, ...]) -> Iterator[Hit]:
    for path, value in zip(paths, _values_at(paths)(decl), strict=True):
        if value is None:
            yield Hit(path, {"label": ctx.profile.label(path)})


@rule("H002", W, "建议填写项未填", "“{label}”未填写",
      "Fields without * that a usable declaration still needs.", "declaration")
def recommended_fields(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    return _empty_fields(decl, ctx, ctx.profile.recommended_fields)


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
    for path, value in zip(BUDGET_FIELDS, _AMOUNTS(budget), strict=True):
        if value is not None and value < 0:
            yield Hit(path, {"label": ctx.profile.label(path), "value": amount_text(value, ctx.profile)})


_AMOUNTS = operator.attrgetter(*(path.removeprefix(_BUDGET) for path in BUDGET_FIELDS))


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
# Indicators, row by row: each check is a plain test over the row's facts (``RowFacts``: levels, name kinds and
# parsed target worked out once per row), returning its hit or None. ``ctx`` carries the plan (year, completion
# date, carried over) only for a rule declared with ``plan``; the others read the form alone, so what they say of a
# row's content is remembered across declarations of any year.
# --------------------------------------------------------------------------------------------------
VAGUE_TERMS = ("明显改善", "进一步提升", "进一步提高", "进一步", "明显", "显著", "有所", "逐年上升", "逐步",
               "同比下降", "同比上升", "提高", "提升", "加大", "加强", "增强", "上升", "下降", "缩短", "增加",
               "减少", "降低", "改善", "较好", "较高", "较大")
# A vague term right after a negation states an absence, which is assessable: 无明显影响, 不产生明显污染,
# 未发生明显下降, 服务质量不降低. Only degree words may stand between (无任何明显…); 不断提高 stays vague.
_NEGATION_WORDS = ("无", "不", "未", "没有", "零", "杜绝", "避免", "防止", "不产生", "不发生", "不出现", "不造成",
                   "不存在", "不会", "不得", "不致", "未发生", "未出现", "未造成")
_DEGREE_WORDS = ("任何", "明显", "显著", "较大", "大幅", "严重", "重大", "的")
_NEGATED = re.compile(f"(?:{'|'.join(_NEGATION_WORDS)})(?:{'|'.join(_DEGREE_WORDS)})*$")

RowCheck = Callable[[RowFacts, Context], Hit | None]
# Rules that read the plan, each with the test of a row's content that must hold for it to have anything to say
# (checked when the row's verdicts are remembered; the rule itself runs per declaration on the rows that pass).
_PLAN_RULES: dict[str, Callable[[RowFacts], bool]] = {}


def row_rule(code: str, severity: Severity, title: str, message: str, description: str,
             source: str | None = None, plan: Callable[[RowFacts], bool] | None = None
             ) -> Callable[[RowCheck], RowCheck]:
    """Declare an indicator rule; ``plan`` marks one that reads the plan (year, dates), with its content test."""

    def register(fn: RowCheck) -> RowCheck:
        declare(code, severity, title, message, description, "indicator", source, fn)
        if plan is not None:
            _PLAN_RULES[code] = plan
        return fn

    return register


def _column_hit(key: str, row: RowFacts, **params: Any) -> Hit:
    """A hit on one column of the row, its message naming the column as the form prints it."""
    return Hit(key, {"label": row.form.labels[key], **params})


@row_rule("I001", E, "一级目标未填", "第{row}行指标的{label}未填写", "Every indicator sits under a level-1 group.")
def level1_present(row: RowFacts, ctx: Context) -> Hit | None:
    return _column_hit("level1", row) if row.level1 is None else None


@row_rule("I002", E, "一级目标不在本表式中", "{label}“{level1}”不是本表式的{label}（应为：{items}）",
          "The level-1 groups are fixed by the form's version.", SRC_TREE)
def level1_known(row: RowFacts, ctx: Context) -> Hit | None:
    if row.level1 is not None and row.l1 is None:
        return _column_hit("level1", row, level1=row.level1, items=row.form.level1_items)
    return None


@row_rule("I003", E, "二级目标未填", "第{row}行指标的{label}未填写", "Every indicator sits under a level-2 group.")
def level2_present(row: RowFacts, ctx: Context) -> Hit | None:
    return _column_hit("level2", row) if row.level2 is None else None


@row_rule("I004", W, "二级目标不在列表中", "{label}“{level2}”不在“{level1}”下的常用列表中（{items}）",
          "Level-2 lists are known from samples and guidance, not a closed official list: a warning.", SRC_TREE)
def level2_known(row: RowFacts, ctx: Context) -> Hit | None:
    if row.level2 is None or row.l1 is None or row.l2 is not None:
        return None
    return _column_hit("level2", row, level1=row.l1, level2=row.level2,
                       items="、".join(row.form.profile.level2_names(row.l1)))


@row_rule("I005", E, "二级目标与一级目标不对应", "{label}“{level2}”属于“{owner}”，不应放在“{level1}”下",
          "A level-2 group belongs under its own level-1 group.", SRC_TREE)
def level2_under_own_level1(row: RowFacts, ctx: Context) -> Hit | None:
    if row.l1 is not None and row.l2 is not None and row.l2[0] != row.l1:
        return _column_hit("level2", row, level2=row.level2, owner=row.l2[0], level1=row.level1)
    return None


@row_rule("I006", E, "指标名称未填", "第{row}行指标（{level1}/{level2}）的{label}未填写",
          "An indicator without a name cannot be assessed.")
def name_present(row: RowFacts, ctx: Context) -> Hit | None:
    if row.name is None:
        return Hit("name", {"level1": row.level1 or "?", "level2": row.level2 or "?",
                            "label": row.form.labels["name"]})
    return None


@row_rule("I007", E, "指标目标值未填", "指标“{name}”没有填写{label}", "Every indicator needs a target value.", SRC_88)
def target_present(row: RowFacts, ctx: Context) -> Hit | None:
    return Hit("target", row.params()) if row.target is None and row.name is not None else None


@row_rule("I008", E, "比率指标目标值不是百分数", "“{name}”是比率类指标，{label}“{target}”应为百分数（例如 ≥95%）",
          "A rate (name with 率) is a percentage.", SRC_SYSTEM)
def rate_is_percent(row: RowFacts, ctx: Context) -> Hit | None:
    if row.target is not None and row.rate and not row.parts.is_percent:
        return Hit("target", row.params())
    return None


@row_rule("I009", E, "满意度目标值不是百分数", "满意度指标“{name}”的{label}“{target}”应为百分数（例如 ≥90%）",
          "Satisfaction is surveyed as a percentage; a target without % cannot be compared.", SRC_SYSTEM)
def satisfaction_is_percent(row: RowFacts, ctx: Context) -> Hit | None:
    if row.target is not None and row.satisfaction and not row.parts.is_percent:
        return Hit("target", row.params())
    return None


@row_rule("I010", W, "满意度目标偏低", "满意度指标“{name}”的{label} {target} 低于常见水平 {floor}%",
          "No official floor was found; practice is 80–95%, kept as a profile threshold.")
def satisfaction_floor(row: RowFacts, ctx: Context) -> Hit | None:
    if row.target is not None and row.satisfaction:
        value, floor = row.floor, row.form.satisfaction_floor
        if value is not None and value < floor:
            return Hit("target", {**row.params(), "floor": floor})
    return None


@row_rule("I011", W, "预算执行类指标目标偏低", "“{name}”的{label} {target} 低于常见水平 {floor}%",
          "Execution and funds-arrival rates are normally =100% or a high floor.")
def budget_rate_floor(row: RowFacts, ctx: Context) -> Hit | None:
    if row.target is not None and row.budget_rate and not row.satisfaction:
        value, floor = row.floor, row.form.budget_floor
        if value is not None and value < floor:
            return Hit("target", {**row.params(), "floor": floor})
    return None


@row_rule("I012", E, "计量类指标缺少数值", "“{name}”是数量、次数、面积或时间类指标，{label}“{target}”应含具体数值",
          "An indicator that counts or measures is assessed against a number.", SRC_88)
def measure_has_number(row: RowFacts, ctx: Context) -> Hit | None:
    # a rate named 时间达标率 is I008's to judge
    if row.target is not None and row.measure and not row.percent_name and row.parts.kind == "qualitative":
        return Hit("target", row.params())
    return None


def vague_term(target: str) -> str | None:
    """The first vague term of a target that is not negated (无明显影响 states an absence, which is assessable)."""
    for term in VAGUE_TERMS:
        start = target.find(term)
        while start >= 0:
            if not _NEGATED.search(target, 0, start):
                return term
            start = target.find(term, start + 1)
    return None


@row_rule("I013", W, "目标值不可衡量",
          "指标“{name}”的{label}“{target}”含“{term}”等模糊表述，无法衡量，请给出具体数值或分级",
          "Targets such as 明显改善 or 进一步提升 cannot be assessed at year end; a negated one (无明显影响) can.",
          SRC_88)
def target_measurable(row: RowFacts, ctx: Context) -> Hit | None:
    # I008, I009 and I012 already give a rate's, a satisfaction's or a measure's target its verdict
    if row.target is None or row.percent_name or row.measure or row.parts.kind != "qualitative":
        return None
    term = vague_term(row.target)
    return None if term is None else Hit("target", {**row.params(), "term": term})


@row_rule("I014", W, "定量指标缺少计量单位", "指标“{name}”的{label}“{target}”有数值但没有{what}",
          "Quantitative indicators carry a unit of measurement; a form's own unit column (度量单位) satisfies it.",
          SRC_SYSTEM)
def quantitative_has_unit(row: RowFacts, ctx: Context) -> Hit | None:
    if row.target is None or row.percent_name:
        return None  # I008/I009 already say what a rate or satisfaction target needs
    parts = row.parts
    if parts.kind == "quantitative" and parts.unit is None and parts.text is None:
        return Hit(row.form.field_for("unit"), {**row.params(), "what": row.form.labels["unit"]})
    return None


@row_rule("I015", W, "指标名称过长", "{label}超过 {limit} 个字（{length} 个字）",
          "Budget systems limit indicator names to 100 characters.", SRC_SYSTEM)
def name_length(row: RowFacts, ctx: Context) -> Hit | None:
    limit = row.form.name_max_chars
    if row.name and len(row.name) > limit:
        return Hit("name", {"limit": limit, "length": len(row.name), "label": row.form.labels["name"]})
    return None


def _may_be_late(row: RowFacts) -> bool:
    """A row I016 has to look at with the plan: a time-limit target, not a rate's or a satisfaction's."""
    return row.target is not None and not row.percent_name and row.parts.kind == "deadline"


@row_rule("I016", W, "时限晚于计划完成日期", "指标“{name}”的时限“{target}”（{deadline}）{problem}",
          "A time-limit target is expected by the plan's completion date and, unless the project is carried over "
          "(结转 / 延续) or the indicator is a long-term one, inside the budget year.", plan=_may_be_late)
def deadline_within_plan(row: RowFacts, ctx: Context) -> Hit | None:
    if not _may_be_late(row):
        return None
    due = row.parts.deadline(ctx.year)
    if due is None:
        return None
    if ctx.end_date is not None and due > ctx.end_date:
        return Hit("target", {**row.params(), "deadline": due.isoformat(),
                              "problem": f"晚于{ctx.profile.label('project.end_date')} {ctx.end_date.isoformat()}"})
    if ctx.year is not None and due.year != ctx.year and not ctx.carried_over and row.period != "long_term":
        return Hit("target", {**row.params(), "deadline": due.isoformat(), "problem": f"不在申报年度 {ctx.year} 内"})
    return None


@row_rule("I017", E, "比率超过100%", "“{name}”的{label}“{target}”超过 100%（只有增长率、变化率一类可以超过 100%）",
          "Completion, pass, execution and satisfaction rates cannot exceed 100%; growth and change rates can. "
          "Reported instead of a missing comparator on the same row.", SRC_SYSTEM)
def rate_within_100(row: RowFacts, ctx: Context) -> Hit | None:
    return Hit("target", row.params()) if row.target is not None and row.over_100 else None


@row_rule("I018", W, "百分数缺少比较符号", "“{name}”的{label}“{target}”是百分数，但没有{what}（{items}）",
          "A percentage target is compared with a symbol (≥95%); without one the intent is unclear, so a warning. "
          "A form's own comparator column (指标性质 / 计算符号) satisfies it.", SRC_SYSTEM)
def percent_has_comparator(row: RowFacts, ctx: Context) -> Hit | None:
    parts = row.parts
    if row.target is None or not parts.is_percent or parts.comparator is not None or parts.text is not None:
        return None  # 提高30% says it in words
    if row.over_100 or row.comparator_unreadable:
        return None
    return Hit(row.form.field_for("comparator"), {**row.params(), "items": row.form.symbol_items,
                                                  "what": row.form.labels["comparator"]})


@row_rule("I019", W, "比较符号无法识别", "指标“{name}”的{label}“{value}”无法识别（应为：{items}）",
          "A comparator column (指标性质 / 计算符号) holds one of the form's symbols or 定性.", SRC_SYSTEM)
def comparator_known(row: RowFacts, ctx: Context) -> Hit | None:
    if row.comparator_unreadable:
        return _column_hit("comparator", row, name=row.name or "", value=row.comparator,
                           items=row.form.comparator_items)
    return None


# --------------------------------------------------------------------------------------------------
# The indicator table as a whole
# --------------------------------------------------------------------------------------------------
@rule("G001", E, "没有绩效指标", "申报表没有填写任何绩效指标", "A declaration needs indicators.", "declaration",
      SRC_88)
def has_indicators(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    if not _column(decl, ctx, "name"):
        yield Hit("indicators")


def _column(decl: Declaration, ctx: Context, key: str) -> Sequence[Any]:
    """One column of the declaration's indicator table (``key`` of each row, in order): the context's where the
    caller made the table once (``Context.table``), else read from the indicators. The rules over the table (G…)
    read it through this alone, never the declaration otherwise: ``table_severities`` runs them on rows only."""
    table = ctx.table
    return table[key] if table is not None else [getattr(ind, key) for ind in decl.indicators]


def _level1s_present(decl: Declaration, ctx: Context, form: FormFacts) -> set[str | None]:
    """The profile's names of the table's level-1 values, each distinct value looked up once (a table repeats a
    few levels over all its rows)."""
    index = form.level1
    return {index.get(v) if v else None for v in set(_column(decl, ctx, "level1"))}  # form.canonical_level1


@rule("G002", W, "缺少一级目标", "缺少{label}“{level1}”的指标",
      "Each level-1 group the form's version requires (its ``required_groups``, e.g. 成本指标 in Shanghai 2025) "
      "is expected; unconfirmed as a hard rule, so a warning.", "declaration", SRC_TREE)
def level1_groups_present(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    required = ctx.profile.required_groups
    if not required or not _column(decl, ctx, "name"):
        return
    present = _level1s_present(decl, ctx, facts_of(ctx.profile))
    for level1 in required:
        if level1 not in present:
            yield Hit("indicators", {"level1": level1, "label": ctx.profile.column_label("level1")})


@rule("G003", W, "缺少二级目标", "“{level1}”下缺少{label}“{level2}”的指标",
      "The profile names the level-2 groups a form is expected to cover.", "declaration", SRC_TREE)
def level2_groups_present(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    form = facts_of(ctx.profile)
    if not form.required_pairs:
        return
    present = _level1s_present(decl, ctx, form)
    index = form.level2
    groups = {index.get(v) if v else None for v in set(_column(decl, ctx, "level2"))}  # form.canonical_level2
    for pair in form.required_pairs:
        if pair not in groups and pair[0] in present:  # a whole group missing is G002's to say
            yield Hit("indicators", {"level1": pair[0], "level2": pair[1], "label": form.labels["level2"]})


@rule("G004", W, "指标重复", "指标“{name}”重复出现（另见第{first}行）",
      "The same indicator twice in one table is usually a copy-paste slip (a long-term and an annual table may "
      "share names).", "declaration")
def no_duplicates(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    column = _column(decl, ctx, "name")
    names = [name for name in column if name is not None]
    distinct = set(names)
    # whether any name holds a space (between sentinels, a space anywhere splits the text)
    spaced = len(("\0" + "\0".join(names) + "\0").split()) > 1
    if len(distinct) == len(names) and not spaced:
        return  # no two names alike and none with a space to drop: no two keys alike, told without a key each
    form = facts_of(ctx.profile)
    level2s = _column(decl, ctx, "level2")
    known = {v: v if form.canonical_level2(v) else None for v in set(level2s)}
    # "".join(split()) drops what r"\s+" matches (both use str.isspace), at a fifth of a substitution's cost; a
    # name without a space is its own key
    squeezed = {name: "".join(name.split()) for name in distinct} if spaced else \
        dict(zip(distinct, distinct, strict=True))
    seen: dict[tuple[str | None, str | None, str], int] = {}
    for i, (name, level2, period) in enumerate(zip(column, level2s, _column(decl, ctx, "period"), strict=True)):
        if name is not None:
            first = seen.setdefault((period, known[level2], squeezed[name]), i)
            if first != i:
                yield Hit(f"indicators[{i}].name", {"name": name, "first": first + 1})


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
# Running the catalogue. Verdicts are plain data — (code, severity, message, field) — until a caller wants
# Finding models (``check``) or only counts them (the add-in's sheet summary).
# --------------------------------------------------------------------------------------------------
Verdict = tuple[str, Severity, str, str | None]
_BY_SCOPE: dict[Scope, list[Rule]] = {}


def _rules(scope: Scope) -> list[Rule]:
    """The checking rules of a scope, in catalogue order (computed once: the live functions call this often)."""
    if scope not in _BY_SCOPE:
        _BY_SCOPE[scope] = [r for r in CATALOGUE.values() if r.scope == scope and r.check is not None]
    return _BY_SCOPE[scope]


def _verdicts(rule_: Rule, hits: Iterable[Hit], out: list[Verdict]) -> None:
    for field, params in hits:
        out.append((rule_.code, rule_.severity, rule_.message.format(**params), field))


# An indicator row as the rules' memory keys it: every column of the model, in the model's order, so that
# whatever a rule reads (comparator, unit, period…) is part of the key by construction.
ROW_KEYS: tuple[str, ...] = tuple(d.name for d in fields_of(Indicator))
Row = tuple[Any, ...]
_FACT_KEYS = ("level1", "level2", "name", "comparator", "target", "unit", "period")  # what RowFacts takes
_FACT_INDEX = tuple(ROW_KEYS.index(k) for k in _FACT_KEYS)


def row_of(ind: Indicator) -> Row:
    """The row of an Indicator. A record keeps its fields in its ``__dict__`` in the declared order, however it was
    made (a test holds each way to it): its values are the row, in one call rather than eleven
    attribute look-ups for each row of each table."""
    return tuple(ind.__dict__.values())


def row_key(**values: Any) -> Row:
    """A row from some of its columns (``level1=…, target=…``); the others are empty."""
    unknown = set(values) - set(ROW_KEYS)
    if unknown:
        raise TypeError(f"not indicator columns: {sorted(unknown)}")
    return tuple(values.get(k) for k in ROW_KEYS)


_FACT_CELLS = operator.itemgetter(*_FACT_INDEX)


def row_facts(row: Row, form: FormFacts) -> RowFacts:
    """The facts of a row (``row_of`` / ``row_key``) on a form."""
    return RowFacts(form, *_FACT_CELLS(row))


_ROW_RULES: list[tuple[Rule, RowCheck, Callable[[RowFacts], bool] | None, bool]] = []


def _row_rules() -> list[tuple[Rule, RowCheck, Callable[[RowFacts], bool] | None, bool]]:
    """The row rules in catalogue order, each with its check, its plan test and whether its message names the row
    number: looked up once, not per row."""
    if not _ROW_RULES:
        _ROW_RULES.extend((r, r.check, _PLAN_RULES.get(r.code), "{row}" in r.message)
                          for r in _rules("indicator") if r.check is not None)
    return _ROW_RULES


# What the row rules say of a row's content: (rule, field, message, params, facts). ``message`` is None where it
# names the row's number (filled in per place); ``facts`` is set, and the rest empty, for a rule that reads the plan.
_Said = tuple[Rule, str | None, str | None, Mapping[str, Any] | None, RowFacts | None]


MEMORY_ROWS = 16384  # rows remembered per profile; the memory starts afresh when full


# Each profile's remembered rows: a plain dict a table's rows are looked up in directly (a row met again costs one
# hash and one comparison), kept to MEMORY_ROWS by ``_said``; a profile gets one once a row of it was judged.
_MEMORIES: dict[str, dict[Row, tuple[_Said, ...]]] = {}
_NO_MEMORY: dict[Row, tuple[_Said, ...]] = {}


def _said(row: Row, profile: str) -> tuple[_Said, ...]:
    """What the row rules say of a row's content on a form, remembered: the same rows (预算执行率 ≥80%…) recur in
    form after form of a batch, and on every recalculation in Excel. Whatever depends on the row's place (its
    number, its field path) or on the plan (year, dates) is left to ``_place``."""
    said = _MEMORIES.get(profile, _NO_MEMORY).get(row)
    if said is None:
        said = _judged(row, profile)  # UnknownProfileError for a name no profile has, before anything is kept
        memory = _MEMORIES.setdefault(profile, {})
        if len(memory) >= MEMORY_ROWS:
            memory.clear()
        memory[row] = said
    return said


def _judged(row: Row, profile: str) -> tuple[_Said, ...]:
    """What the row rules say of a row's content on a form (``_said`` remembers it)."""
    form = form_facts(profile)
    facts = row_facts(row, form)
    ctx = _form_context(profile)
    out: list[_Said] = []
    for r, check_, plan, by_row in _row_rules():
        if plan is not None:
            if plan(facts):
                out.append((r, None, None, None, facts))
            continue
        hit = check_(facts, ctx)
        if hit is not None:
            field, params = hit
            out.append((r, field, None if by_row else r.message.format(**params), params, None))
    return tuple(out)


@lru_cache(maxsize=64)
def _form_context(profile: str) -> Context:
    """A profile's context without a plan: what the rules that read the form alone are given."""
    return Context(form_facts(profile).profile)


def _place(said: tuple[_Said, ...], ctx: Context, index: int, out: list[Verdict]) -> None:
    """The verdicts of a row at a place in the table (``index``, 0-based) of a declaration (``ctx``)."""
    for r, field, message, params, facts in said:
        if facts is not None:
            hit: Hit | None = r.check(facts, ctx)  # type: ignore[misc]
            if hit is None:
                continue
            field, params = hit
        if message is None:
            message = r.message.format(**params, row=index + 1)  # type: ignore[arg-type]
        out.append((r.code, r.severity, message, None if field is None else f"indicators[{index}].{field}"))


def _findings(verdicts: list[Verdict]) -> list[Finding]:
    make = Finding.make
    return [make(*v) for v in verdicts]


def row_verdicts(row: Row, ctx: Context, index: int = 0) -> list[Verdict]:
    """The verdicts of one indicator row (``row_of`` / ``row_key``); ``index`` is its place in the table (0-based).
    Indicator rules see the profile, the year, the completion date and whether the project is carried over,
    nothing else."""
    out: list[Verdict] = []
    _place(_said(row, ctx.profile.name), ctx, index, out)
    return out


def row_severities(row: Row, ctx: Context) -> list[Severity]:
    """The severity of each of ``row_verdicts``, as plain data and unremembered: a count of verdicts (the add-in's
    sheet summary, which keeps its counts by the row's cells) needs no message formatted and nothing kept here."""
    facts = row_facts(row, facts_of(ctx.profile))
    return [r.severity for r, check_, plan, _ in _row_rules()
            if (plan is None or plan(facts)) and check_(facts, ctx) is not None]


def indicator_verdicts(ind: Indicator, ctx: Context, index: int = 0) -> list[Verdict]:
    """``row_verdicts`` of an Indicator."""
    return row_verdicts(row_of(ind), ctx, index)


def check_indicator(ind: Indicator, ctx: Context, index: int = 0) -> list[Finding]:
    """Findings of one indicator row (``indicator_verdicts`` as Finding models)."""
    return _findings(indicator_verdicts(ind, ctx, index))


def check_budget(budget: Budget, ctx: Context) -> list[Finding]:
    out: list[Verdict] = []
    _budget_verdicts(budget, ctx, out)
    return _findings(out)


def _budget_verdicts(budget: Budget, ctx: Context, out: list[Verdict]) -> None:
    for r in _rules("budget"):
        _verdicts(r, r.check(budget, ctx), out)  # type: ignore[misc]


@lru_cache(maxsize=1)
def _table_rules() -> tuple[Rule, ...]:
    return tuple(r for r in _rules("declaration") if r.code.startswith("G"))


def table_severities(rows: Sequence[Row], ctx: Context) -> list[Severity]:
    """The severity of each verdict of the rules over a whole indicator table (G…), from its rows (``row_of``
    each) alone, as plain data: what the add-in's sheet summary adds to its rows' counts, with no declaration or
    Indicator made. These rules read the table through ``_column`` only, so none is passed to them."""
    table = dataclasses.replace(ctx, table=by_column(rows))
    return [r.severity for r in _table_rules() for _ in r.check(None, table)]  # type: ignore[misc]


def check(decl: Declaration) -> list[Finding]:
    """Every rule of the catalogue over one declaration, in a stable order."""
    make, name = Finding.make, decl.project.name
    return [make(*v, project=name) for v in rule_verdicts(decl)]


def rule_verdicts(decl: Declaration) -> list[Verdict]:
    """Every rule of the catalogue over one declaration, in a stable order, as (code, severity, message, field):
    a reader makes each Finding once, with its file, sheet, cell and project together."""
    rows = list(map(row_of, decl.indicators))
    ctx = Context.of(decl, rows)  # the table by column too, for the rules over the whole table
    out: list[Verdict] = []
    for r in _rules("declaration"):
        _verdicts(r, r.check(decl, ctx), out)  # type: ignore[misc]
    _budget_verdicts(decl.budget, ctx, out)
    profile = ctx.profile.name
    memory = _MEMORIES.get(profile, _NO_MEMORY)
    for i, row in enumerate(rows):
        said = memory.get(row)
        if said is None:
            said = _said(row, profile)
        if said:
            _place(said, ctx, i, out)
    return out
