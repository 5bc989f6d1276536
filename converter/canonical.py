"""Canonical JSON: the one byte form of a declaration.

UTF-8 without ``\\u`` escapes, keys in model order, two-space indent, a final newline. The same
declaration always gives the same bytes, so files can be diffed, hashed and compared across runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter

from .model import Declaration

_LIST = TypeAdapter(list[Declaration])


def to_obj(decl: Declaration) -> dict[str, Any]:
    return decl.model_dump(mode="json")


def reference_dumps(obj: Any) -> str:
    """The definition of the canonical bytes: ``json.dumps(ensure_ascii=False, indent=2)`` and a newline."""
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def dumps(decl: Declaration) -> str:
    # pydantic's Rust serializer writes the same bytes as ``reference_dumps`` (a property test holds it to
    # that) about five times faster, which bulk conversion feels.
    return decl.model_dump_json(indent=2) + "\n"


def dumps_many(decls: Iterable[Declaration]) -> str:
    return _LIST.dump_json(list(decls), indent=2).decode() + "\n"


def loads(text: str | bytes) -> list[Declaration]:
    """One declaration or an array of them, as ``to-json`` writes."""
    data = json.loads(text)
    if isinstance(data, list):
        return _LIST.validate_python(data)
    return [Declaration.model_validate(data)]


def json_schema() -> dict[str, Any]:
    schema = Declaration.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
