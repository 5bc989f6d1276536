"""The target-value parser: how people type targets, and that the raw text is never altered."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converter.model import Indicator, strip_controls
from converter.targets import parse_target


@pytest.mark.parametrize(
    ("raw", "comparator", "number", "unit"),
    [
        ("≥90%", "≥", "90", "%"), (">=90", "≥", "90", None), ("≧90％", "≥", "90", "%"), ("=100%", "=", "100", "%"),
        ("＝100％", "=", "100", "%"), ("<30分钟", "<", "30", "分钟"), ("<=5分钟", "≤", "5", "分钟"),
        ("≤2小时", "≤", "2", "小时"), ("＞1500次", ">", "1500", "次"), ("不低于95%", "≥", "95", "%"),
        ("不少于3个", "≥", "3", "个"), ("2次以上", "≥", "2", "次"), ("5天以内", "≤", "5", "天"),
        ("≥100000000条", "≥", "100000000", "条"), ("≥1亿条", "≥", "100000000", "条"),
        ("≥1.5万次", "≥", "15000", "次"), ("≥50万元", "≥", "50", "万元"), ("≥1,000,000元", "≥", "1000000", "元"),
        ("1344m ²", None, "1344", "m²"), ("1344平方米", None, "1344", "m²"), ("1344㎡", None, "1344", "m²"),
        ("1344m2", None, "1344", "m²"), ("≥99.9%", "≥", "99.9", "%"), ("一年2次以上会议", "≥", "2", "次"),
        ("公示渠道不少于2个", "≥", "2", "个"), ("＜ 30 分钟", "<", "30", "分钟"),
    ],
)
def test_quantitative(raw: str, comparator: str | None, number: str, unit: str | None) -> None:
    parts = parse_target(raw)
    assert (parts.kind, parts.comparator, parts.number, parts.unit) == (
        "quantitative", comparator, Decimal(number), unit)
    assert parts.raw == raw


@pytest.mark.parametrize("raw", ["健全", "规范", "明显改善", "按时完工", "通过检测报告", "达成年度指标"])
def test_qualitative(raw: str) -> None:
    parts = parse_target(raw)
    assert parts.kind == "qualitative" and parts.text == raw and parts.number is None


@pytest.mark.parametrize(
    ("raw", "year", "due"),
    [("12月底前", 2020, dt.date(2020, 12, 31)), ("2021年6月", 2020, dt.date(2021, 6, 30)),
     ("2月底", 2020, dt.date(2020, 2, 29)), ("2020-10-31", None, dt.date(2020, 10, 31)),
     ("11月15日前", 2020, dt.date(2020, 11, 15))],
)
def test_deadlines(raw: str, year: int | None, due: dt.date) -> None:
    parts = parse_target(raw)
    assert parts.kind == "deadline" and parts.deadline(year) == due


def test_empty() -> None:
    assert parse_target(None).kind == "empty" and parse_target("  ").kind == "empty"


@given(st.text())
def test_parsing_never_alters_raw_text(raw: str) -> None:
    before = str(raw)
    parts = parse_target(raw)
    assert parts.raw == before and raw == before
    raw = strip_controls(raw)
    ind = Indicator(target=raw)
    assert ind.target == (raw.replace("\r\n", "\n").replace("\r", "\n").strip() or None)
    parse_target(ind.target)
    assert ind.target == Indicator(target=raw).target
