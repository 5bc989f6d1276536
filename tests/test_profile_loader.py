"""Profiles load without pydantic (issue 13, point 4): ``profile.from_data`` checks each value against the profile
classes' declared types. pydantic, validating the same dataclasses, is the oracle: the same profile from every
shipped file, and a refusal wherever it refuses."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ConfigDict, TypeAdapter, ValidationError

from converter import profile as profile_module
from converter.profile import PROFILES_DIR, Profile, ProfileInvalid, from_data, profile_names

_CLASSES = [v for v in vars(profile_module).values() if isinstance(v, type) and dataclasses.is_dataclass(v)
            and v.__module__ == profile_module.__name__]


@pytest.fixture
def oracle(monkeypatch: pytest.MonkeyPatch) -> TypeAdapter[Profile]:
    """pydantic over the same classes, refusing unknown keys as ``from_data`` does."""
    for cls in _CLASSES:
        monkeypatch.setattr(cls, "__pydantic_config__", ConfigDict(extra="forbid"), raising=False)
    return TypeAdapter(Profile)


def _data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(PROFILES_DIR) / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("name", profile_names())
def test_every_profile_loads_as_pydantic_validates_it(name: str, oracle: TypeAdapter[Profile]) -> None:
    data = _data(name)
    loaded = from_data(Profile, data, name)
    assert loaded == oracle.validate_python(data)
    assert isinstance(loaded.levels, tuple) and isinstance(loaded.levels[0].level2, tuple)  # hashable, frozen


def _broken(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The profile spoiled one way at a time: a key it does not know, a key missing, a wrong type at each depth."""
    level1 = data["levels"][0]
    return [
        ("unknown key", {**data, "surprise": 1}),
        ("unknown nested key", {**data, "thresholds": {"surprise": 1}}),
        ("missing", {k: v for k, v in data.items() if k != "levels"}),
        ("missing nested", {**data, "levels": [{k: v for k, v in level1.items() if k != "level2"}]}),
        ("text as number", {**data, "title": 5}),
        ("number as text", {**data, "thresholds": {"date_years_around": "1"}}),
        ("boolean as number", {**data, "thresholds": {"date_years_around": True}}),
        ("list as text", {**data, "sources": "a"}),
        ("item of wrong type", {**data, "sources": ["a", 1]}),
        ("pair too long", {**data, "years": [2020, 2021, 2022]}),
        ("not in the list", {**data, "form": {**data["form"], "money_unit": "美元"}}),
        ("object as list", {**data, "lists": []}),
        ("dict value", {**data, "rule_sources": {"R001": 1}}),
    ]


@pytest.mark.parametrize("case", range(len(_broken(_data("shanghai-2020")))))
def test_a_spoiled_profile_is_refused_as_pydantic_refuses_it(case: int, oracle: TypeAdapter[Profile]) -> None:
    what, data = _broken(_data("shanghai-2020"))[case]
    with pytest.raises(ValidationError):
        oracle.validate_python(data, strict=what in ("number as text", "boolean as number"))
    with pytest.raises(ProfileInvalid) as caught:
        from_data(Profile, data, "p.json")
    assert str(caught.value).startswith("p.json"), what  # the file and the place in it
