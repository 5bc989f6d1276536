"""Model and canonical JSON."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from converter import canonical
from converter.fields import HEADER, declaration_from
from converter.model import MAX_CELL_CHARS, Budget, Declaration, Indicator, Kind, Project, Record, built, fields_of
from converter.pydantic_model import pydantic_of, validated_values

from .strategies import declarations


def _plain(value: Any) -> Any:
    """A value with every record in it as its fields: what the pydantic model takes, for it to validate afresh."""
    if isinstance(value, Record):
        return {k: _plain(v) for k, v in value.__dict__.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


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
    model = pydantic_of(Declaration).model_validate(_plain(decl))  # the pydantic model's own dump, an oracle
    assert canonical.to_obj(decl) == model.model_dump(mode="json")
    assert canonical.dumps_bytes(decl) == model.model_dump_json(indent=2).encode() + b"\n"
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
    assert json.loads(canonical.dumps(Declaration(profile="x", budget=b)))["budget"] == {
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
    assert canonical.dumps(decl).encode() == canonical.dumps(copy.deepcopy(decl)).encode()
    assert canonical.dumps(decl).endswith("}\n")


def test_dates_and_flags_are_strict() -> None:
    for data in ({"profile": "x", "project": {"start_date": "2020/1/1"}},
                 {"profile": "x", "project": {"includes_government_procurement": "否"}},
                 {"profile": "x", "surprise": 1}):
        with pytest.raises(ValidationError):
            Declaration(**data)
        with pytest.raises(ValidationError):
            canonical.loads(json.dumps(data))


def test_schema() -> None:
    schema = canonical.json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert REQUIRED_KEYS <= set(schema["properties"])
    budget = schema["$defs"]["Budget"]["properties"]["total"]
    assert budget["anyOf"][0]["pattern"] == r"^-?[0-9]+\.[0-9]{2}$"
    assert schema["$defs"]["Project"]["properties"]["name"]["title"] == "项目名称"


# --- the constructors that validate only what could change (issue 13) -------------------------------------------------
# Values a reader hands the model, by kind: padded and multi-line text, ideographic spaces, a cell's length;
# amounts in 分 and in 元, as Decimals, text, integers and floats; dates as dates and as ISO text; flags.
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(" \n\t\u3000"),
                max_size=10)
_VALID = {
    Kind.MONEY: st.none() | st.decimals(-10**12, 10**12, places=2) | st.decimals(-10**6, 10**6, places=0) |
    st.integers(-10**6, 10**6) | st.sampled_from(["12.5", "", 1114.09, Decimal("1.50"), Decimal("1E+3")]),
    Kind.DATE: st.none() | st.dates(dt.date(1900, 3, 1)) | st.sampled_from(["2020-01-01", ""]),
    Kind.FLAG: st.none() | st.booleans(),
}
_VALID_TEXT = st.none() | _TEXT | st.sampled_from([" x ", "a\r\nb", "\u3000x\u3000", "  ", "a" * MAX_CELL_CHARS])
# And values it never should: control characters, one past a cell's length, amounts finer than 分 or not finite or
# too large to round, datetimes and date text of another spelling, what is no flag, and non-text for text.
_INVALID = {
    Kind.MONEY: st.sampled_from([Decimal("1.005"), Decimal("NaN"), Decimal("Infinity"), Decimal("1E+30"), "x", True,
                                 float("nan"), 1e26, Decimal("1" * 30 + ".00")]),
    Kind.DATE: st.datetimes() | st.sampled_from(["2020/1/1", 5, dt.date(1900, 2, 28)]),
    Kind.FLAG: st.sampled_from([0, 1, "是", ""]),
}
_INVALID_TEXT = st.sampled_from(["x\x01", "\ufffe", "a" * (MAX_CELL_CHARS + 1), 5, True])


def _value(kind: Kind, valid: bool) -> st.SearchStrategy[Any]:
    if valid:
        return _VALID.get(kind, _VALID_TEXT)
    return _VALID.get(kind, _VALID_TEXT) | _INVALID.get(kind, _INVALID_TEXT)


def _section(model: type[Record], prefix: str, valid: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    optional = {d.name: _value(HEADER[prefix + d.name].kind, valid) for d in fields_of(model)}
    return st.fixed_dictionaries({}, optional=optional if valid else {**optional, "bogus": st.none() | st.integers()})


_NAMES = st.none() | st.text("项目 a", max_size=5)


def _declarations(valid: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of Declaration: as readers pass them, or (``valid`` False) with anything a caller might."""
    texts = _value(Kind.TEXT, valid)
    projects = _section(Project, "project.", valid) | st.builds(Project, name=_NAMES)
    budgets = _section(Budget, "budget.", valid) | st.builds(Budget, total=st.none() | st.integers(0, 9))
    indicators = st.lists(st.builds(Indicator, name=_NAMES), max_size=3)
    optional: dict[str, st.SearchStrategy[Any]] = {
        "schema_version": st.just("1.0"), "year": st.none() | st.integers(1900, 2999), "unit_name": texts,
        "department": texts, "implementing_unit": texts, "project": projects, "budget": budgets,
        "indicators": indicators}
    if valid:
        return st.fixed_dictionaries({"profile": st.sampled_from(["shanghai-2020", "x"])}, optional=optional)
    return st.fixed_dictionaries({}, optional={
        **optional, "profile": st.sampled_from(["shanghai-2020"]) | st.integers(),
        "schema_version": st.sampled_from(["1.0", "2"]),
        "year": st.none() | st.integers(1899, 3000) | st.booleans() | st.sampled_from(["2020", 2020.0]),
        "project": projects | st.none(), "budget": budgets | st.none(),
        "indicators": indicators | st.just([{"name": "x"}]) | st.just((Indicator(),)) | st.none(),
        "bogus": st.none()})


def _outcome(build: Any, fields: dict[str, Any]) -> tuple[Any, str | None]:
    try:
        return build(**fields), None
    except ValidationError as exc:
        return None, str(exc)
    except ArithmeticError as exc:  # an amount too large to round to 分 (json_input tells it by this)
        return None, repr(exc)


def _validated(cls: type[Record]) -> Any:
    """The record as the pydantic model derived from it validates its values: the oracle of its constructor."""
    return lambda **fields: built(cls, validated_values(cls, fields))


def _built_alike(model: type[Record], fields: dict[str, Any]) -> tuple[Any, Any]:
    """``model(**fields)`` and what its pydantic model makes of them: the same error, or the same record."""
    want, want_error = _outcome(_validated(model), fields)
    got, got_error = _outcome(model, fields)
    assert got_error == want_error
    if want is not None:
        _same_model(got, want)
    return got, want


def _same_model(got: Record, want: Record) -> None:
    """Equal values, the same order, the same JSON (pydantic's, of its model) — at every level of the record."""
    assert type(got) is type(want) and got == want
    assert list(got.__dict__) == list(want.__dict__)
    assert _pydantic_json(got) == _pydantic_json(want)
    for name in (d.name for d in fields_of(type(want))):
        value, expected = getattr(got, name), getattr(want, name)
        if isinstance(expected, Record):
            _same_model(value, expected)
        elif isinstance(expected, list):  # items given as models are the same objects (checked by the caller)
            assert len(value) == len(expected)
            for a, b in zip(value, expected, strict=True):
                if a is not b:
                    _same_model(a, b)
        else:
            assert type(value) is type(expected) and str(value) == str(expected)  # 1.50 stays 1.50, not 1.5


def _pydantic_json(rec: Record) -> bytes:
    return pydantic_of(type(rec)).model_validate(_plain(rec)).model_dump_json()


@settings(max_examples=400, deadline=None)
@given(st.booleans().flatmap(_declarations))
def test_declaration_is_the_validated_model(fields: dict[str, Any]) -> None:
    got, want = _built_alike(Declaration, fields)
    if want is not None:
        for part in ("project", "budget"):  # a record given is taken as it is, as pydantic takes a model
            if isinstance(fields.get(part), Record):
                assert getattr(got, part) is fields[part]
        given = fields.get("indicators")
        if isinstance(given, list | tuple):
            assert all(a is b for a, b in zip(got.indicators, given, strict=True) if isinstance(b, Indicator))


@settings(max_examples=300, deadline=None)
@given(st.booleans().flatmap(lambda valid: _section(Budget, "budget.", valid)))
def test_budget_is_the_validated_model(fields: dict[str, Any]) -> None:
    _built_alike(Budget, fields)


@settings(max_examples=100, deadline=None)
@given(declarations)
def test_declarations_read_from_fields_are_the_validated_ones(decl: Declaration) -> None:
    """What readers build (``declaration_from``, flat paths) is what pydantic builds from the same values."""
    fields = {path: value for path, value in ((p, _at(decl, p)) for p in HEADER if p != "year") if value is not None}
    rest = {"profile": decl.profile, "year": decl.year, "indicators": list(decl.indicators)}
    made = declaration_from(fields, **rest)
    project = {p.split(".", 1)[1]: v for p, v in fields.items() if p.startswith("project.")}
    budget_ = {p.split(".", 1)[1]: v for p, v in fields.items() if p.startswith("budget.")}
    top = {p: v for p, v in fields.items() if "." not in p and p != "year"}
    _same_model(made, _validated(Declaration)(**top, project=project, budget=budget_, **rest))
    assert canonical.dumps(made) == canonical.dumps(decl)


def _at(decl: Declaration, path: str) -> Any:
    value: Any = decl
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_a_date_given_as_a_datetime_is_refused_as_before() -> None:
    with pytest.raises(ValidationError):
        Declaration(profile="x", project={"start_date": dt.datetime(2020, 1, 1)})


def test_records_given_are_taken_as_pydantic_takes_models() -> None:
    """Whatever path a value takes (its taker, or pydantic for another field's sake), a record of the field's class
    is kept as it is; a list may come as any iterable; a record of another class is no dictionary."""
    unchecked = built(Indicator, {**{d.name: None for d in fields_of(Indicator)}, "level1": "a\x01b"})
    for year in (2020, "2020"):  # an int is taken by its taker; a text only pydantic converts
        decl = Declaration(profile="p", year=year, indicators=[unchecked])
        assert decl.indicators[0] is unchecked and decl.year == 2020
    one = Indicator(name="x")
    for items in ((one,), (i for i in (one,)), [one]):
        assert Declaration(profile="p", indicators=items).indicators[0] is one
    mixed = Declaration(profile="p", year="2020", indicators=(i for i in (one, {"name": " y "})))
    assert mixed.indicators[0] is one and mixed.indicators[1] == Indicator(name="y")
    with pytest.raises(ValidationError) as caught:
        Declaration(profile="p", project=Budget(total="1"))
    assert [e["type"] for e in caught.value.errors()] == ["model_type"]


def test_an_assignment_is_validated_as_the_constructor_validates() -> None:
    decl = Declaration(profile="p")
    decl.year, decl.unit_name, decl.project = 2021, " 单位 ", {"name": " 项目 "}
    assert (decl.year, decl.unit_name, decl.project.name) == (2021, "单位", "项目")
    decl.indicators = (Indicator(name="x"),)  # type: ignore[assignment]
    assert decl.indicators == [Indicator(name="x")]
    for name, value in (("year", "abc"), ("year", 3000), ("unit_name", "a\x01"), ("bogus", 1)):
        with pytest.raises(ValidationError):
            setattr(decl, name, value)
    assert decl.year == 2021 and not hasattr(decl, "bogus")


def test_a_date_of_a_subclass_is_written_and_a_lone_surrogate_refused() -> None:
    class Day(dt.date):
        pass

    decl = Declaration(profile="p", project={"start_date": Day(2020, 1, 2)})
    assert json.loads(canonical.dumps(decl))["project"]["start_date"] == "2020-01-02"
    broken = built(Declaration, {**Declaration(profile="p").__dict__, "unit_name": "\ud800"})
    for write in (canonical.dumps, canonical.dumps_bytes, lambda d: canonical.dumps_many([d])):
        with pytest.raises(UnicodeEncodeError):
            write(broken)
