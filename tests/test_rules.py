"""Every rule of the catalogue, in every profile: one case that triggers it, and a clean form that does not.

The clean declaration of a profile is built from the profile itself (its printed fields, lists, indicator tree
and table columns), so a new profile is covered without a line here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from converter.fields import COLUMNS, HEADER, field_labels
from converter.findings import Finding, Severity
from converter.model import Declaration, Indicator, Kind
from converter.profile import Profile, load_profile, profile_names, strip_unit
from converter.rules import CATALOGUE, Context, check, check_budget, check_indicator, rule_source
from converter.targets import QUALITATIVE, comparator_of, parse_target

PROFILES = profile_names()
YEAR = 2020

# The rows every clean declaration holds, by what each is about; the triggers below change them by index.
RECIPES: tuple[tuple[str, str], ...] = (
    ("预算执行率", "≥95%"),  # 0: a budget rate
    ("财务管理制度健全性", "健全"),  # 1: qualitative
    ("数据检查次数", "≥200次"),  # 2: a count
    ("报告验收通过率", "=100%"),  # 3: a pass rate
    ("年度报告完成时间", f"{YEAR}年11月底前"),  # 4: a deadline
    ("信息公开覆盖部门", "≥12个"),  # 5: a plain quantity
    ("服务对象满意度", "≥90%"),  # 6: satisfaction
    ("运维管理制度", "健全"),  # 7: qualitative
)


def has_column(profile: Profile, key: str) -> bool:
    return any(c.key == key for c in profile.form.table.columns)


def cells(profile: Profile, target: str | None) -> dict[str, str | None]:
    """A target as this form's table holds it: one 指标值 cell, or comparator / value / unit cells where the form
    has those columns (≥95% → 指标性质 ≥, 指标值 95, 度量单位 %), each spelled as the profile's lists spell it."""
    split_comparator, split_unit = has_column(profile, "comparator"), has_column(profile, "unit")
    parts = parse_target(target)
    if not (split_comparator or split_unit) or parts.kind in ("empty", "deadline"):
        return {"target": target, "comparator": None, "unit": None}
    if parts.kind == "qualitative":
        return {"target": target, "comparator": QUALITATIVE if split_comparator else None, "unit": None}
    spelled = {comparator_of(c): c for c in profile.lists.comparator}
    comparator = spelled[parts.comparator] if parts.comparator and split_comparator else None
    number = f"{parts.number}"
    shown = number if split_comparator or parts.comparator is None else f"{parts.comparator}{number}"
    if split_unit:
        return {"target": shown, "comparator": comparator, "unit": parts.unit}
    return {"target": f"{shown}{parts.unit or ''}", "comparator": comparator, "unit": None}


def groups(profile: Profile) -> list[tuple[str, str]]:
    """(level 1, level 2) pairs a clean table covers: every required group, and beside each required level 2 one
    more of its level 1, so that dropping a required level 2 leaves its level 1 present."""
    out: list[tuple[str, str]] = []
    for level1, level2s in profile.required_groups.items():
        names = profile.level2_names(level1)
        out += [(level1, l2) for l2 in level2s] or [(level1, names[0])]
        others = [l2 for l2 in names if l2 not in level2s]
        if level2s and others:
            out.append((level1, others[0]))
    return out


def header_value(profile: Profile, path: str) -> Any:
    spec = HEADER[path]
    if spec.kind is Kind.DATE:
        return dt.date(YEAR, 1, 1) if path.endswith("start_date") else dt.date(YEAR, 12, 1)
    if spec.kind is Kind.FLAG:
        return False
    if spec.kind is Kind.YEAR:
        return YEAR
    if spec.kind is Kind.MONEY:
        return {"budget.prior_year_executed": Decimal(80)}.get(path, Decimal(90 if "prior" in path else 100))
    if spec.kind is Kind.CHOICE and spec.choices:
        items: tuple[str, ...] = getattr(profile.lists, spec.choices)
        return items[0] if items else "其他"
    return f"{spec.label}（测试）"


def clean(name: str) -> Declaration:
    """A declaration of profile ``name`` that every rule accepts."""
    profile = load_profile(name)
    covered = groups(profile)
    rows = [(*covered[i % len(covered)], *RECIPES[i]) for i in range(len(RECIPES))]
    rows += [(*g, f"其他指标{i}", f"≥{i}个") for i, g in enumerate(covered[len(RECIPES):], start=1)]
    period = profile.form.table.periods[-1] if profile.form.table.periods else None
    indicators = [Indicator(level1=a, level2=b, name=c, period=period, **cells(profile, d)) for a, b, c, d in rows]
    fields = {p: header_value(profile, p) for p in
              (*profile.header_paths(), *profile.required_fields, *profile.recommended_fields)}
    fields |= {"project.name": "测试项目", "year": YEAR, "budget.fiscal_funds": None, "budget.other_funds": None}
    top = {p: v for p, v in fields.items() if "." not in p}
    parts: dict[str, dict[str, Any]] = {"project": {}, "budget": {}}
    for p, v in fields.items():
        if "." in p:
            section, key = p.split(".", 1)
            parts[section][key] = v
    return Declaration(profile=name, **top, **parts, indicators=indicators)


# --- mutations --------------------------------------------------------------------------------------------------
Mutation = Callable[[Declaration, Profile], None]


def set_row(i: int, **values: str | None) -> Mutation:
    def mutate(d: Declaration, p: Profile) -> None:
        d.indicators[i] = replace(d.indicators[i], **values)

    return mutate


def set_target(i: int, target: str | None) -> Mutation:
    """Row ``i`` gets a target, split into the form's own columns where it has them."""

    def mutate(d: Declaration, p: Profile) -> None:
        d.indicators[i] = replace(d.indicators[i], **cells(p, target))

    return mutate


def add_row(level1: bool, level2: bool, name: str | None) -> Mutation:
    def mutate(d: Declaration, p: Profile) -> None:
        first = d.indicators[0]
        d.indicators.append(Indicator(level1=first.level1 if level1 else None, level2=first.level2 if level2 else None,
                                      name=name, period=first.period, **cells(p, "≥1个")))

    return mutate


def foreign_level2(d: Declaration, p: Profile) -> None:
    """Row 7 gets a level 2 that belongs under another level 1."""
    own = p.canonical_level1(d.indicators[7].level1)
    other = next(l2 for lv in p.levels if lv.name != own for l2 in p.level2_names(lv.name))
    d.indicators[7] = replace(d.indicators[7], level2=other)


def project(**values: object) -> Mutation:
    def mutate(d: Declaration, p: Profile) -> None:
        for k, v in values.items():
            setattr(d.project, k, v)

    return mutate


def budget(**values: object) -> Mutation:
    def mutate(d: Declaration, p: Profile) -> None:
        for k, v in values.items():
            setattr(d.budget, k, v)

    return mutate


def first_path(attribute: str) -> Callable[[Profile], str]:
    """The profile's first required (or recommended) field other than the project's name (findings name it)."""
    return lambda p: next(path for path in getattr(p, attribute) if path != "project.name")


def clear_first(attribute: str) -> Mutation:
    """Empty that field."""

    def mutate(d: Declaration, p: Profile) -> None:
        path = first_path(attribute)(p)
        obj: Any = d
        *parents, key = path.split(".")
        for part in parents:
            obj = getattr(obj, part)
        setattr(obj, key, None)

    return mutate


def far_start(d: Declaration, p: Profile) -> None:
    d.project.start_date = dt.date(YEAR - p.thresholds.date_years_around - 1, 1, 1)


def drop_last_level1(d: Declaration, p: Profile) -> None:
    gone = list(p.required_groups)[-1]
    d.indicators = [i for i in d.indicators if p.canonical_level1(i.level1) != gone]


def drop_required_level2(d: Declaration, p: Profile) -> None:
    level1, level2 = next((l1, l2s[0]) for l1, l2s in p.required_groups.items() if l2s)
    d.indicators = [i for i in d.indicators if p.canonical_level2(i.level2) != (level1, level2)]


def no_indicators(d: Declaration, p: Profile) -> None:
    d.indicators = []


def column(key: str, row: int) -> Callable[[Profile], str]:
    """The field a missing comparator or unit is reported on: its own column where the form has one."""
    return lambda p: f"indicators[{row}].{key if has_column(p, key) else 'target'}"


def duplicate_row(i: int) -> Mutation:
    def mutate(d: Declaration, p: Profile) -> None:
        d.indicators.append(replace(d.indicators[i]))

    return mutate


def at(field: str) -> Callable[[Profile], str]:
    return lambda p: field


TRIGGERS: dict[str, tuple[Mutation, Callable[[Profile], str]]] = {
    "H001": (clear_first("required_fields"), first_path("required_fields")),
    "H002": (clear_first("recommended_fields"), first_path("recommended_fields")),
    "H003": (project(category="其他经常性专项"), at("project.category")),
    "H004": (project(performance_type="其他经常性项目"), at("project.performance_type")),
    "D001": (project(start_date=dt.date(YEAR, 1, 1), end_date=dt.date(YEAR - 1, 12, 31)), at("project.end_date")),
    "D002": (far_start, at("project.start_date")),
    "B001": (budget(prior_year_executed=Decimal("-1")), at("budget.prior_year_executed")),
    "B002": (budget(total=Decimal(100), current_year=Decimal("100.01")), at("budget.current_year")),
    "B003": (budget(prior_year_budget=Decimal(90), prior_year_executed=Decimal("90.01")),
             at("budget.prior_year_executed")),
    "I001": (add_row(False, True, "数据量"), at("indicators[{}].level1")),
    "I002": (set_row(7, level1="长远目标"), at("indicators[7].level1")),
    "I003": (add_row(True, False, "数据量"), at("indicators[{}].level2")),
    "I004": (set_row(7, level2="社会影响"), at("indicators[7].level2")),
    "I005": (foreign_level2, at("indicators[7].level2")),
    "I006": (add_row(True, True, None), at("indicators[{}].name")),
    "I007": (set_target(2, None), at("indicators[2].target")),
    "I008": (set_target(0, "规范"), at("indicators[0].target")),
    "I009": (set_target(6, ">=90"), at("indicators[6].target")),
    "I010": (set_target(6, "≥75%"), at("indicators[6].target")),
    "I011": (set_target(0, "≥80%"), at("indicators[0].target")),
    "I012": (set_target(2, "较多"), at("indicators[2].target")),
    "I013": (set_target(5, "明显改善"), at("indicators[5].target")),
    "I014": (set_target(5, ">10000"), column("unit", 5)),
    "I015": (set_row(5, name="指" * 101), at("indicators[5].name")),
    "I016": (set_target(4, f"{YEAR + 1}年6月底前"), at("indicators[4].target")),
    "I017": (set_target(3, "≥120%"), at("indicators[3].target")),
    "I018": (set_target(0, "95%"), column("comparator", 0)),
    "I019": (set_row(0, comparator="约"), at("indicators[0].comparator")),
    "G001": (no_indicators, at("indicators")),
    "G002": (drop_last_level1, at("indicators")),
    "G003": (drop_required_level2, at("indicators")),
    "G004": (duplicate_row(2), at("indicators[{}].name")),
}


def not_applicable(code: str, profile: Profile) -> str | None:
    """Why a rule cannot fire in a profile (derived from the profile's data), or None."""
    if code == "H003" and not profile.lists.category:
        return "the form has no 项目类别 list"
    if code == "H004" and not profile.lists.performance_type:
        return "the form has no 绩效类型 list"
    if code == "G003" and not any(profile.required_groups.values()):
        return "the form requires no level-2 group"
    return None


def triggered(name: str, code: str) -> tuple[Declaration, list[Finding], str]:
    decl = clean(name)
    profile = load_profile(name)
    mutate, where = TRIGGERS[code]
    rows = len(decl.indicators)
    mutate(decl, profile)
    return decl, check(decl), where(profile).replace("{}", str(rows))


@pytest.mark.parametrize("name", PROFILES)
def test_clean_declaration_has_no_findings(name: str) -> None:
    decl = clean(name)
    assert check(decl) == []
    profile = load_profile(name)
    if has_column(profile, "comparator"):  # the form's own columns are what the clean form exercises
        assert any(i.comparator for i in decl.indicators) and any(i.unit for i in decl.indicators)


def test_every_checking_rule_has_a_trigger() -> None:
    checking = {code for code, r in CATALOGUE.items() if r.check is not None}
    assert checking == set(TRIGGERS)
    for code in TRIGGERS:  # and every rule can fire in some profile
        assert any(not_applicable(code, load_profile(n)) is None for n in PROFILES), code


@pytest.mark.parametrize("code", sorted(TRIGGERS))
@pytest.mark.parametrize("name", PROFILES)
def test_rule_triggers(name: str, code: str) -> None:
    why = not_applicable(code, load_profile(name))
    if why:
        pytest.skip(why)
    _, findings, field = triggered(name, code)
    hits = [f for f in findings if f.code == code]
    assert hits, f"{code} not raised; got {[f.code for f in findings]}"
    assert hits[0].field == field
    assert hits[0].severity == CATALOGUE[code].severity
    assert hits[0].project == "测试项目"
    assert hits[0].message and "{" not in hits[0].message


def _expected_label(profile: Profile, finding: Finding) -> str | None:
    """The label a finding's message must name: the field's label as this form prints it."""
    field = finding.field or ""
    if finding.code in ("G002", "G003"):
        return profile.column_label("level1" if finding.code == "G002" else "level2")
    if field.startswith("indicators[") and "." in field:
        key = field.rsplit(".", 1)[1]
        return profile.column_label("target" if finding.code in ("I014", "I018") else key)
    return strip_unit(profile.label(field)) if field in HEADER else None  # B002 puts the unit after the amount


@pytest.mark.parametrize("name", PROFILES)
def test_messages_name_fields_as_the_form_prints_them(name: str) -> None:
    profile = load_profile(name)
    checked = 0
    for code in sorted(TRIGGERS):
        if "{label}" not in CATALOGUE[code].message and "_label}" not in CATALOGUE[code].message:
            continue
        if not_applicable(code, profile):
            continue
        _, findings, _ = triggered(name, code)
        finding = next(f for f in findings if f.code == code)
        label = _expected_label(profile, finding)
        if label is not None:
            assert label in finding.message, (code, label, finding.message)
            checked += 1
    assert checked >= 20


def test_no_field_label_is_typed_into_a_checking_rule_message() -> None:
    """Labels come from the profile at run time; a label typed into a message template would drift."""
    labels = set(field_labels().values())
    for name in PROFILES:
        p = load_profile(name)
        labels |= {p.label(path) for path in HEADER} | {p.column_label(key) for key in COLUMNS}
    labels = {label for label in labels if len(label) >= 3}  # 年度 is also part of the phrase 申报年度
    for code, r in CATALOGUE.items():
        if r.check is not None:
            typed = [label for label in labels if label in r.message]
            assert not typed, (code, typed)


def test_labels_differ_between_forms() -> None:
    """The same rule speaks of 一级目标 on the Shanghai 2020 form and 一级指标 on the national one."""
    sh = next(f for f in triggered("shanghai-2020", "I001")[1] if f.code == "I001")
    nat = next(f for f in triggered("national-2021", "I001")[1] if f.code == "I001")
    assert "一级目标" in sh.message and "一级指标" not in sh.message
    assert "一级指标" in nat.message and "一级目标" not in nat.message
    b002 = next(f for f in triggered("national-2021", "B002")[1] if f.code == "B002")
    assert b002.message == "年度资金总额 0.010001 万元大于中期资金总额 0.01 万元"


@pytest.mark.parametrize("name", PROFILES)
def test_sources_are_right_for_the_profile(name: str) -> None:
    profile = load_profile(name)
    cites_101 = any("101号" in s for s in profile.sources) or "101号" in " ".join(profile.rule_sources.values())
    shanghai = name.startswith("shanghai")
    for code, r in CATALOGUE.items():
        source = rule_source(r, profile) or ""
        if "101号" in source:
            assert cites_101, (name, code, source)
        if "上海" in source:
            assert shanghai, (name, code, source)
    for code, text in profile.rule_sources.items():
        assert rule_source(CATALOGUE[code], profile) == text


def test_default_sources_claim_no_form_specific_document() -> None:
    """What only a profile knows (its fields, lists and indicator tree) is cited by the profile, not by default."""
    for code in ("H001", "H003", "H004", "I002", "I004", "I005", "G002", "G003"):
        source = rule_source(CATALOGUE[code]) or ""
        assert "101号" not in source and "上海" not in source and "88号" not in source, (code, source)
    assert "上海" in (rule_source(CATALOGUE["I002"], load_profile("shanghai-2020")) or "")


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("预算执行率", "=100%"), ("预算执行率", "≥90%"), ("数据报送频率", "<=5分钟"), ("工作效率", "提高30%"),
        ("服务对象满意度", "不低于90%"), ("修缮面积", "1344m ²"), ("年度会议完成时间", "11月底"),
        ("查询服务使用次数", "≥2000000次"), ("平台应用情况", "通过数据共享支撑信用服务机构"),
        ("营业收入增长率", "≥150%"), ("环境影响", "无明显影响"), ("年度报告完成时间", "2020年底前"),
    ],
)
def test_sound_indicators_pass(name: str, target: str) -> None:
    ctx = Context(load_profile("shanghai-2020"), 2020, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    ind = Indicator(level1="产出目标", level2="数量", name=name, target=target)
    assert [f.code for f in check_indicator(ind, ctx)] == []


def test_rate_and_satisfaction_ranges() -> None:
    ctx = Context(load_profile("shanghai-2020"))
    for name, target, code in (("验收通过率", "≥120%", "I017"), ("验收通过率", "120%", "I017"),
                               ("验收通过率", ">100%", "I017"), ("服务对象满意度", "≥101%", "I017"),
                               ("验收通过率", "95%", "I018"), ("验收通过率", "高", "I008"),
                               ("服务对象满意度", "90", "I009")):
        found = check_indicator(Indicator(level1="产出目标", level2="质量", name=name, target=target), ctx)
        assert [f.code for f in found] == [code], (name, target)
    assert CATALOGUE["I018"].severity == Severity.WARNING and CATALOGUE["I017"].severity == Severity.ERROR


def test_budget_checks_alone() -> None:
    ctx = Context(load_profile("shanghai-2020"))
    decl = clean("shanghai-2020")
    decl.budget.current_year = Decimal("200")
    assert [f.code for f in check_budget(decl.budget, ctx)] == ["B002"]
    decl.budget.fiscal_funds = Decimal("-5")
    assert [f.field for f in check_budget(decl.budget, ctx)] == ["budget.fiscal_funds", "budget.current_year"]


def test_national_profile_vocabulary() -> None:
    ctx = Context(load_profile("national-2021"))
    ok = Indicator(level1="产出指标", level2="数量指标", name="培训人次", comparator="≥", target="100", unit="人次")
    alias = Indicator(level1="效益指标", level2="社会效益", name="覆盖人群", target="≥1000人")
    wrong = Indicator(level1="产出指标", level2="服务对象满意度指标", name="满意度", target="≥90%")
    assert check_indicator(ok, ctx) == []
    assert check_indicator(alias, ctx) == []
    assert [f.code for f in check_indicator(wrong, ctx)] == ["I005"]


def test_every_rule_is_fully_declared() -> None:
    for code, r in CATALOGUE.items():
        assert r.code == code and r.severity in Severity
        assert r.title and r.message and r.description
