"""Model and canonical JSON."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from converter import canonical
from converter.model import Budget, Declaration, Indicator

from .strategies import declarations

REQUIRED_KEYS = {
    "schema_version", "profile", "year", "unit_name", "project", "budget", "indicators",
}


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


@given(declarations)
@settings(max_examples=150, deadline=None)
def test_round_trip_is_byte_identical(decl: Declaration) -> None:
    text = canonical.dumps(decl)
    assert text == canonical.reference_dumps(canonical.to_obj(decl))
    assert canonical.dumps_many([decl, decl]) == canonical.reference_dumps([canonical.to_obj(decl)] * 2)
    (back,) = canonical.loads(text)
    assert back == decl
    assert canonical.dumps(back) == text
    literal = {c for s in _strings(canonical.to_obj(decl)) for c in s if ord(c) >= 0x20 and c not in '"\\'}
    assert all(c in text for c in literal)  # no \\u escapes for printable characters


def test_keys_and_order() -> None:
    obj = json.loads(canonical.dumps(Declaration(profile="shanghai-2020")))
    assert list(obj) == ["schema_version", "profile", "year", "unit_name", "project", "budget", "indicators"]
    assert list(obj["project"]) == [
        "name", "category", "start_date", "end_date", "includes_government_procurement", "performance_type",
        "overview", "basis", "necessity", "safeguards", "implementation_plan", "goals",
    ]
    assert list(obj["budget"]) == ["total", "current_year", "prior_year_budget", "prior_year_executed"]
    decl = Declaration(profile="shanghai-2020", indicators=[Indicator(level1="a", target=" ≥90% ")])
    assert list(json.loads(canonical.dumps(decl))["indicators"][0]) == ["level1", "level2", "name", "target"]


def test_money_is_two_place_strings_never_floats() -> None:
    b = Budget(total=1114.09, current_year="600000", prior_year_budget=Decimal("1.5"), prior_year_executed=0)
    assert b.model_dump(mode="json") == {
        "total": "1114.09", "current_year": "600000.00", "prior_year_budget": "1.50", "prior_year_executed": "0.00",
    }
    with pytest.raises(ValidationError):
        Budget(total="1.005")
    with pytest.raises(ValidationError):
        Budget(total="NaN")
    with pytest.raises(ValidationError):
        Budget(total=True)


def test_text_trimmed_and_empty_is_null() -> None:
    ind = Indicator(name="  预算执行率 ", target="   ")
    assert ind.name == "预算执行率" and ind.target is None
    assert Indicator(target="a\r\nb").target == "a\nb"


def test_chinese_is_not_escaped_and_bytes_are_stable() -> None:
    decl = Declaration(profile="shanghai-2020", unit_name="上海市经济信息中心")
    assert "上海市经济信息中心" in canonical.dumps(decl)
    assert canonical.dumps(decl).encode() == canonical.dumps(decl.model_copy(deep=True)).encode()
    assert canonical.dumps(decl).endswith("}\n")


def test_dates_and_flags_are_strict() -> None:
    with pytest.raises(ValidationError):
        Declaration.model_validate({"profile": "x", "project": {"start_date": "2020/1/1"}})
    with pytest.raises(ValidationError):
        Declaration.model_validate({"profile": "x", "project": {"includes_government_procurement": "否"}})
    with pytest.raises(ValidationError):
        Declaration.model_validate({"profile": "x", "surprise": 1})


def test_schema() -> None:
    schema = canonical.json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert REQUIRED_KEYS <= set(schema["properties"])
    budget = schema["$defs"]["Budget"]["properties"]["total"]
    assert budget["anyOf"][0]["pattern"] == r"^-?[0-9]+\.[0-9]{2}$"
    assert schema["$defs"]["Project"]["properties"]["name"]["title"] == "项目名称"
