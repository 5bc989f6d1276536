"""The target-value parser: how people type targets, and that the raw text is never altered."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converter import targets
from converter.model import Indicator, strip_controls
from converter.targets import TargetParts, comparator_of, parse_target, row_parts, unit_of


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
     ("11月15日前", 2020, dt.date(2020, 11, 15)),
     # the spellings of the forms in use elsewhere
     ("2024年底前", None, dt.date(2024, 12, 31)), ("2024年年底前", None, dt.date(2024, 12, 31)),
     ("2024年末", None, dt.date(2024, 12, 31)), ("2024年度末", None, dt.date(2024, 12, 31)),
     ("2024.12", None, dt.date(2024, 12, 31)), ("２０２４．６", None, dt.date(2024, 6, 30)),
     ("2024-06", None, dt.date(2024, 6, 30)), ("2024年12月", None, dt.date(2024, 12, 31)),
     ("2024 年 6 月 30 日前", None, dt.date(2024, 6, 30)), ("2024.6.30前", None, dt.date(2024, 6, 30)),
     ("12月底前", 2024, dt.date(2024, 12, 31)), ("年底前", 2024, dt.date(2024, 12, 31)),
     ("本年度内", 2024, dt.date(2024, 12, 31)), ("年内完成", 2024, dt.date(2024, 12, 31)),
     ("第三季度末", 2024, dt.date(2024, 9, 30)), ("2025年第一季度", None, dt.date(2025, 3, 31)),
     ("三季度末前", 2024, dt.date(2024, 9, 30)), ("上半年完成", 2024, dt.date(2024, 6, 30)),
     ("12月上旬", 2024, dt.date(2024, 12, 10)), ("6月中旬前", 2024, dt.date(2024, 6, 20))],
)
def test_deadlines(raw: str, year: int | None, due: dt.date) -> None:
    parts = parse_target(raw)
    assert parts.kind == "deadline" and parts.deadline(year) == due and parts.comparator == "≤"


def test_a_deadline_without_its_year_needs_the_declaration_year() -> None:
    assert parse_target("年底前").deadline(None) is None
    assert parse_target("2024年底前").deadline(None) == dt.date(2024, 12, 31)


@pytest.mark.parametrize("raw", ["≥2024.5万元", "2024年", "20241231", "2024.5元", "≥12个月"])
def test_numbers_that_look_like_dates_stay_numbers(raw: str) -> None:
    assert parse_target(raw).kind == "quantitative"


@pytest.mark.parametrize(
    ("text", "comparator"),
    [("≥", "≥"), (">=", "≥"), ("＞", ">"), ("＜", "<"), ("＝", "="), ("=", "="), ("≤", "≤"), ("<=", "≤"),
     ("≧", "≥"), ("不低于", "≥"), (" ≥ ", "≥"), ("定性", "定性"), ("定量（其他）", "定量"), ("约", None),
     (None, None)],
)
def test_comparator_column(text: str | None, comparator: str | None) -> None:
    assert comparator_of(text) == comparator


@pytest.mark.parametrize(("text", "unit"), [("%", "%"), ("％", "%"), ("百分比", "%"), ("个", "个"), ("平方米", "m²"),
                                            ("座次", "座次"), (" 人次 ", "人次"), (None, None), ("  ", None)])
def test_unit_column(text: str | None, unit: str | None) -> None:
    assert unit_of(text) == unit


def test_row_parts_let_the_columns_speak() -> None:
    rate = row_parts("95", "≥", "%")
    assert (rate.kind, rate.comparator, rate.unit, rate.raw) == ("quantitative", "≥", "%", "95")
    assert rate.number == Decimal(95)
    assert row_parts("95", "＞", "％").comparator == ">" and row_parts("95", "＞", "％").is_percent
    assert row_parts("健全", "定性", None).kind == "qualitative"
    assert row_parts("3", "定性", None).kind == "qualitative"  # the form says so: the rules judge it as such
    assert row_parts("≥95%", None, None) == parse_target("≥95%")  # no columns: the target alone
    assert row_parts("≥95%", "约", None).comparator == "≥"  # an unreadable column does not erase the target's own
    assert row_parts("95", None, "%").comparator is None
    assert row_parts("2024年底前", "≤", "日期").kind == "deadline"
    assert row_parts(None, "≥", "%").kind == "empty"


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


# --- the parser's look-ups, held to the plain scans they replace (issue 13) ---------------------------------------
def _longest_scan(text: str, words: dict[str, str], *, at_end: bool) -> str | None:
    """Every word, longest first, tried in turn: the obvious way to find the longest word a text starts (ends) with."""
    for word in sorted(words, key=len, reverse=True):
        if (text.endswith(word) if at_end else text.startswith(word)):
            return word
    return None


_PIECES = st.sampled_from([*targets._PREFIX_WORDS, *targets._SUFFIX_WORDS, *targets._UNITS, "1", "x", "年", "月", "%"])


@given(st.lists(_PIECES, max_size=4).map("".join))
def test_longest_word_lookups_are_the_plain_scans(text: str) -> None:
    for words, lengths in ((targets._PREFIX_WORDS, targets._PREFIX_LENGTHS),
                           (targets._SUFFIX_WORDS, targets._SUFFIX_LENGTHS), (targets._UNITS, targets._UNIT_LENGTHS)):
        assert targets._leading(text, words, lengths) == _longest_scan(text, words, at_end=False)
        assert targets._trailing(text, words, lengths) == _longest_scan(text, words, at_end=True)


_DATE_PIECES = st.sampled_from(["2024", "1999", "20", "19", "12", "6", "30", "年", "度", "月", "份", "日", "号", "底",
                                "末", "前", "之前", "完成", "内", "第三", "季度", "上", "半年", "中旬", ".", "-", "/",
                                "本", "x", "%", "≥"])


@given(st.lists(_DATE_PIECES, max_size=6).map("".join))
def test_texts_told_apart_before_the_deadline_patterns_match_none(text: str) -> None:
    """The quick test ``_deadline`` makes first only leaves out texts that no deadline pattern matches."""
    if targets._deadline(text, text) is None:
        assert not any(pattern.match(text) for pattern in targets._DEADLINES)


def test_a_parsed_view_made_without_its_init_is_the_dataclass() -> None:
    made = parse_target("≥80.5%")
    built = TargetParts(raw="≥80.5%", kind="quantitative", comparator="≥", number=Decimal("80.5"), unit="%")
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.kind = "empty"  # type: ignore[misc]
