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
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from .findings import Finding, Severity
from .model import Budget, Declaration, Indicator, field_labels, get_field
from .profile import Profile, load_profile
from .targets import parse_target

Scope = Literal["reader", "declaration", "budget", "indicator"]

SRC_SH_FORM = "上海市财政项目支出绩效目标申报表（带*为必填项）"
SRC_88 = "财预〔2015〕88号《中央部门预算绩效目标管理办法》：绩效目标应细化、量化，尽量定量表述"
SRC_101 = "财预〔2021〕101号《中央部门项目支出核心绩效目标和指标设置及取值指引（试行）》"
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

    @classmethod
    def of(cls, decl: Declaration) -> Context:
        return cls(load_profile(decl.profile), decl.year, decl.project.start_date, decl.project.end_date)


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
        return Finding.model_construct(code=self.code, severity=self.severity, message=self.message.format(**params),
                                       file=None, sheet=None, cell=None, field=field, project=None)


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


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
LABELS = field_labels()

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
AMOUNT_UNPARSEABLE = declare("R004", E, "金额无法识别", "{label}“{value}”不是有效金额（以元为单位，最多两位小数）",
                             "An amount cell whose text is not an amount in 元; the field is left empty.", "reader")
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


# --------------------------------------------------------------------------------------------------
# Header fields and dates
# --------------------------------------------------------------------------------------------------
@rule("H001", E, "必填项未填", "必填项“{label}”未填写",
      "Fields marked * on the form must be filled.", "declaration", SRC_SH_FORM)
def required_fields(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    for path in ctx.profile.required_fields:
        if get_field(decl, path) is None:
            yield Hit(path, {"label": LABELS[path]})


@rule("H002", W, "建议填写项未填", "“{label}”未填写",
      "Fields without * that a usable declaration still needs.", "declaration")
def recommended_fields(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    for path in ctx.profile.recommended_fields:
        if get_field(decl, path) is None:
            yield Hit(path, {"label": LABELS[path]})


def _list_check(path: str, items: tuple[str, ...]) -> CheckFn:
    def check(decl: Declaration, ctx: Context) -> Iterator[Hit]:
        value = get_field(decl, path)
        if value is not None and items and value not in items:
            yield Hit(path, {"label": LABELS[path], "value": value, "items": "、".join(items)})

    return check


@rule("H003", W, "项目类别不在列表中", "项目类别“{value}”不在本表式的列表中（{items}）",
      "Lists change between years, so an unknown category is a warning, not a stop.", "declaration",
      SRC_SH_FORM)
def category_in_list(decl: Declaration, ctx: Context) -> Iterable[Hit]:
    return _list_check("project.category", ctx.profile.lists.category)(decl, ctx)


@rule("H004", W, "绩效类型不在列表中", "绩效类型“{value}”不在本表式的列表中（{items}）",
      "Lists change between years, so an unknown type is a warning, not a stop.", "declaration", SRC_SH_FORM)
def performance_type_in_list(decl: Declaration, ctx: Context) -> Iterable[Hit]:
    return _list_check("project.performance_type", ctx.profile.lists.performance_type)(decl, ctx)


@rule("D001", E, "完成日期早于开始日期", "计划完成日期 {end} 早于计划开始日期 {start}",
      "A project cannot end before it starts.", "declaration")
def end_after_start(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    start, end = decl.project.start_date, decl.project.end_date
    if start and end and end < start:
        yield Hit("project.end_date", {"start": start.isoformat(), "end": end.isoformat()})


@rule("D002", W, "日期不在申报年度附近", "{label} {value} 与申报年度 {year} 相差超过 {around} 年",
      "Plan dates are expected in or next to the budget year; far-off years are usually typing errors.",
      "declaration")
def dates_near_year(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    if decl.year is None:
        return
    around = ctx.profile.thresholds.date_years_around
    for path in ("project.start_date", "project.end_date"):
        value = get_field(decl, path)
        if value is not None and abs(value.year - decl.year) > around:
            yield Hit(path, {"label": LABELS[path], "value": value.isoformat(), "year": decl.year,
                             "around": around})


# --------------------------------------------------------------------------------------------------
# Budget
# --------------------------------------------------------------------------------------------------
@rule("B001", E, "金额为负数", "{label}为负数（{value}）", "Amounts are never negative.", "budget")
def amounts_not_negative(budget: Budget, ctx: Context) -> Iterator[Hit]:
    for name in Budget.model_fields:
        value: Decimal | None = getattr(budget, name)
        if value is not None and value < 0:
            yield Hit(f"budget.{name}", {"label": LABELS[f"budget.{name}"], "value": f"{value:.2f}"})


@rule("B002", E, "当年预算超过总预算", "项目当年预算 {current} 元大于项目总预算 {total} 元",
      "This year's budget is part of the project's total budget.", "budget")
def current_within_total(budget: Budget, ctx: Context) -> Iterator[Hit]:
    if budget.total is not None and budget.current_year is not None and budget.current_year > budget.total:
        yield Hit("budget.current_year", {"current": f"{budget.current_year:.2f}", "total": f"{budget.total:.2f}"})


@rule("B003", E, "上年执行数超过上年预算", "同名项目上年预算执行数 {executed} 元大于上年预算额 {budget} 元",
      "Spending cannot exceed the budget it was spent from.", "budget")
def executed_within_budget(budget: Budget, ctx: Context) -> Iterator[Hit]:
    b, x = budget.prior_year_budget, budget.prior_year_executed
    if b is not None and x is not None and x > b:
        yield Hit("budget.prior_year_executed", {"executed": f"{x:.2f}", "budget": f"{b:.2f}"})


# --------------------------------------------------------------------------------------------------
# Indicators, row by row
# --------------------------------------------------------------------------------------------------
_RATE = re.compile(r"(?<![效频功速概])率")
_SATISFACTION = "满意度"
_BUDGET_RATE = re.compile(r"执行率|到位率")
_MEASURE_WORDS = ("数量", "次数", "人数", "个数", "件数", "户数", "面积", "时长", "时间", "时限", "天数", "周期",
                  "长度", "金额")
VAGUE_TERMS = ("明显改善", "进一步提升", "进一步提高", "进一步", "明显", "显著", "有所", "逐年上升", "逐步",
               "同比下降", "同比上升", "提高", "提升", "加大", "加强", "增强", "上升", "下降", "缩短", "增加",
               "减少", "降低", "改善", "较好", "较高", "较大")


def is_rate_name(name: str | None) -> bool:
    return bool(name) and _RATE.search(name or "") is not None and _SATISFACTION not in (name or "")


def is_satisfaction_name(name: str | None) -> bool:
    return bool(name) and _SATISFACTION in (name or "")


def _row(ind: Indicator) -> dict[str, Any]:
    return {"level1": ind.level1, "level2": ind.level2, "name": ind.name or "", "target": ind.target or ""}


@rule("I001", E, "一级目标未填", "第{row}行指标的一级目标未填写", "Every indicator sits under a level-1 group.",
      "indicator")
def level1_present(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.level1 is None:
        yield Hit("level1", {"row": row})


@rule("I002", E, "一级目标不在本表式中", "一级目标“{level1}”不是本表式的一级目标（应为：{items}）",
      "The level-1 groups are fixed by the form's version.", "indicator", SRC_101)
def level1_known(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.level1 is not None and ctx.profile.canonical_level1(ind.level1) is None:
        yield Hit("level1", {"level1": ind.level1, "items": "、".join(ctx.profile.level1_names())})


@rule("I003", E, "二级目标未填", "第{row}行指标的二级目标未填写", "Every indicator sits under a level-2 group.",
      "indicator")
def level2_present(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.level2 is None:
        yield Hit("level2", {"row": row})


@rule("I004", W, "二级目标不在列表中", "二级目标“{level2}”不在“{level1}”下的常用列表中（{items}）",
      "Level-2 lists are known from the sample and guidance, not a closed official list: a warning.",
      "indicator", SRC_101)
def level2_known(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    level1 = ctx.profile.canonical_level1(ind.level1)
    if ind.level2 is None or level1 is None:
        return
    if ctx.profile.canonical_level2(ind.level2) is None:
        yield Hit("level2", {"level1": level1, "level2": ind.level2,
                             "items": "、".join(ctx.profile.level2_names(level1))})


@rule("I005", E, "二级目标与一级目标不对应", "二级目标“{level2}”属于“{owner}”，不应放在“{level1}”下",
      "A level-2 group belongs under its own level-1 group.", "indicator", SRC_101)
def level2_under_own_level1(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    level1 = ctx.profile.canonical_level1(ind.level1)
    found = ctx.profile.canonical_level2(ind.level2)
    if level1 is not None and found is not None and found[0] != level1:
        yield Hit("level2", {"level2": ind.level2, "owner": found[0], "level1": ind.level1})


@rule("I006", E, "三级指标名称未填", "第{row}行指标（{level1}/{level2}）没有指标名称",
      "An indicator without a name cannot be assessed.", "indicator")
def name_present(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.name is None:
        yield Hit("name", {"row": row, "level1": ind.level1 or "?", "level2": ind.level2 or "?"})


@rule("I007", E, "指标目标值未填", "指标“{name}”没有填写目标值", "Every indicator needs a target value.",
      "indicator", SRC_88)
def target_present(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None and ind.name is not None:
        yield Hit("target", _row(ind))


def _percent_problem(target: str) -> str | None:
    parts = parse_target(target)
    if parts.kind != "quantitative" or parts.unit != "%":
        return "应为百分数"
    if parts.comparator is None:
        return "缺少比较符号（=、≥、≤、>、<）"
    if parts.number is not None and not Decimal(0) <= parts.number <= Decimal(100):
        return "应在 0%–100% 之间"
    return None


@rule("I008", E, "比率指标目标值不是百分数", "“{name}”是比率类指标，目标值“{target}”{problem}（例如 ≥95%）",
      "A rate (name with 率) is a percentage between 0 and 100 with a comparator.", "indicator", SRC_SYSTEM)
def rate_is_percent(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is not None and is_rate_name(ind.name):
        problem = _percent_problem(ind.target)
        if problem:
            yield Hit("target", {**_row(ind), "problem": problem})


@rule("I009", E, "满意度目标值不是百分数", "满意度指标“{name}”的目标值“{target}”{problem}（例如 ≥90%）",
      "Satisfaction is surveyed as a percentage; a target without % cannot be compared.", "indicator",
      SRC_SYSTEM)
def satisfaction_is_percent(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is not None and is_satisfaction_name(ind.name):
        problem = _percent_problem(ind.target)
        if problem:
            yield Hit("target", {**_row(ind), "problem": problem})


@lru_cache(maxsize=64)
def _threshold(value: float) -> Decimal:
    """A profile threshold as a Decimal that prints as written (80, not 80.0)."""
    number = Decimal(str(value))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def _floor(target: str) -> Decimal | None:
    parts = parse_target(target)
    if parts.unit == "%" and parts.comparator in ("≥", ">", "=") and parts.number is not None:
        return parts.number
    return None


@rule("I010", W, "满意度目标偏低", "满意度指标“{name}”的目标值 {target} 低于常见水平 {floor}%",
      "No official floor was found; practice is 80–95%, kept as a profile threshold.", "indicator")
def satisfaction_floor(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    floor = _threshold(ctx.profile.thresholds.satisfaction_min_percent)
    if ind.target is not None and is_satisfaction_name(ind.name):
        value = _floor(ind.target)
        if value is not None and value < floor:
            yield Hit("target", {**_row(ind), "floor": floor})


@rule("I011", W, "预算执行类指标目标偏低", "“{name}”的目标值 {target} 低于常见水平 {floor}%",
      "Execution and funds-arrival rates are normally =100% or a high floor.", "indicator")
def budget_rate_floor(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    floor = _threshold(ctx.profile.thresholds.budget_rate_min_percent)
    if ind.target is not None and ind.name and _BUDGET_RATE.search(ind.name):
        value = _floor(ind.target)
        if value is not None and value < floor:
            yield Hit("target", {**_row(ind), "floor": floor})


@rule("I012", E, "计量类指标缺少数值", "“{name}”是数量、次数、面积或时间类指标，目标值“{target}”应含具体数值",
      "An indicator that counts or measures is assessed against a number.", "indicator", SRC_88)
def measure_has_number(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None or not ind.name or not any(w in ind.name for w in _MEASURE_WORDS):
        return
    if parse_target(ind.target).kind in ("qualitative",):
        yield Hit("target", _row(ind))


@rule("I013", W, "目标值不可衡量", "指标“{name}”的目标值“{target}”含“{term}”等模糊表述，无法衡量，请给出具体数值或分级",
      "Targets such as 明显改善 or 进一步提升 cannot be assessed at year end.", "indicator", SRC_88)
def target_measurable(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None or parse_target(ind.target).kind != "qualitative":
        return
    for term in VAGUE_TERMS:
        if term in ind.target:
            yield Hit("target", {**_row(ind), "term": term})
            return


@rule("I014", W, "定量指标缺少计量单位", "指标“{name}”的目标值“{target}”有数值但没有计量单位",
      "Quantitative indicators carry a unit of measurement.", "indicator", SRC_SYSTEM)
def quantitative_has_unit(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None or is_rate_name(ind.name) or is_satisfaction_name(ind.name):
        return  # I008/I009 already say what a rate or satisfaction target needs
    parts = parse_target(ind.target)
    if parts.kind == "quantitative" and parts.unit is None and parts.text is None:
        yield Hit("target", _row(ind))


@rule("I015", W, "指标名称过长", "指标名称超过 {limit} 个字（{length} 个字）",
      "Budget systems limit indicator names to 100 characters.", "indicator", SRC_SYSTEM)
def name_length(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    limit = ctx.profile.thresholds.indicator_name_max_chars
    if ind.name and len(ind.name) > limit:
        yield Hit("name", {"limit": limit, "length": len(ind.name)})


@rule("I016", W, "时限晚于计划完成日期", "指标“{name}”的时限“{target}”（{deadline}）{problem}",
      "A time-limit target is expected by the plan's completion date and inside the budget year.",
      "indicator")
def deadline_within_plan(ind: Indicator, ctx: Context, row: int) -> Iterator[Hit]:
    if ind.target is None:
        return
    due = parse_target(ind.target).deadline(ctx.year)
    if due is None:
        return
    if ctx.end_date is not None and due > ctx.end_date:
        yield Hit("target", {**_row(ind), "deadline": due.isoformat(),
                             "problem": f"晚于计划完成日期 {ctx.end_date.isoformat()}"})
    elif ctx.year is not None and due.year != ctx.year:
        yield Hit("target", {**_row(ind), "deadline": due.isoformat(), "problem": f"不在申报年度 {ctx.year} 内"})


# --------------------------------------------------------------------------------------------------
# The indicator table as a whole
# --------------------------------------------------------------------------------------------------
@rule("G001", E, "没有绩效指标", "申报表没有填写任何绩效指标", "A declaration needs indicators.", "declaration",
      SRC_88)
def has_indicators(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    if not decl.indicators:
        yield Hit("indicators")


@rule("G002", W, "缺少一级目标", "缺少一级目标“{level1}”的指标",
      "Each level-1 group of the form's version is expected; unconfirmed as a hard rule, so a warning.",
      "declaration", SRC_101)
def level1_groups_present(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    if not decl.indicators:
        return
    present = {ctx.profile.canonical_level1(i.level1) for i in decl.indicators}
    for level1 in ctx.profile.required_groups:
        if level1 not in present:
            yield Hit("indicators", {"level1": level1})


@rule("G003", W, "缺少二级目标", "“{level1}”下缺少二级目标“{level2}”的指标",
      "The profile names the level-2 groups a form is expected to cover.", "declaration", SRC_101)
def level2_groups_present(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    present = {ctx.profile.canonical_level1(i.level1) for i in decl.indicators}
    groups = {ctx.profile.canonical_level2(i.level2) for i in decl.indicators}
    for level1, level2s in ctx.profile.required_groups.items():
        if level1 not in present:
            continue  # G002 already says the whole group is missing
        for level2 in level2s:
            if (level1, level2) not in groups:
                yield Hit("indicators", {"level1": level1, "level2": level2})


@rule("G004", W, "指标重复", "指标“{name}”重复出现（另见第{first}行）",
      "The same indicator twice is usually a copy-paste slip.", "declaration")
def no_duplicates(decl: Declaration, ctx: Context) -> Iterator[Hit]:
    seen: dict[tuple[str | None, str], int] = {}
    for i, ind in enumerate(decl.indicators):
        if ind.name is None:
            continue
        key = (ctx.profile.canonical_level2(ind.level2) and ind.level2, re.sub(r"\s+", "", ind.name))
        if key in seen:
            yield Hit(f"indicators[{i}].name", {"name": ind.name, "first": seen[key] + 1})
        else:
            seen[key] = i


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


@lru_cache(maxsize=16384)
def _indicator_hits(level1: str | None, level2: str | None, name: str | None, target: str | None,
                    profile: str, year: int | None, end_date: dt.date | None
                    ) -> tuple[tuple[Rule, str | None, tuple[tuple[str, Any], ...]], ...]:
    """What the indicator rules say of a row's content, remembered: the same rows (预算执行率 ≥80%…) recur
    in form after form of a batch, and on every recalculation in Excel. The row number is filled in later."""
    ctx = Context(load_profile(profile), year, None, end_date)
    ind = Indicator(level1=level1, level2=level2, name=name, target=target)
    return tuple((r, hit.field, tuple(hit.params.items())) for r in _rules("indicator")
                 for hit in r.check(ind, ctx, 0))  # type: ignore[misc]


@lru_cache(maxsize=32768)
def indicator_findings(level1: str | None, level2: str | None, name: str | None, target: str | None,
                       profile: str, year: int | None, end_date: dt.date | None, index: int = 0
                       ) -> tuple[Finding, ...]:
    """The findings of a row with this content at this place in the table (findings are immutable)."""
    hits = _indicator_hits(level1, level2, name, target, profile, year, end_date)
    return tuple(r.finding(None if field is None else f"indicators[{index}].{field}",
                           **{**dict(params), "row": index + 1}) for r, field, params in hits)


def check_indicator(ind: Indicator, ctx: Context, index: int = 0) -> list[Finding]:
    """Findings of one indicator row; ``index`` is its place in the table (0-based). Indicator rules see the
    profile, the year and the completion date of the context, nothing else."""
    return list(indicator_findings(ind.level1, ind.level2, ind.name, ind.target, ctx.profile.name, ctx.year,
                                   ctx.end_date, index))


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
    ctx = Context.of(decl)
    out: list[Finding] = []
    for r in _rules("declaration"):
        assert r.check is not None
        out.extend(_run(r, r.check(decl, ctx)))
    out.extend(check_budget(decl.budget, ctx))
    for i, ind in enumerate(decl.indicators):
        out.extend(check_indicator(ind, ctx, i))
    name = decl.project.name
    return [f.located(project=name) for f in out]
