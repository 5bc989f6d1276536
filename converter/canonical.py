"""Canonical JSON: the one byte form of a declaration.

UTF-8 without ``\\u`` escapes, keys in model order, two-space indent, a final newline. The same
declaration always gives the same bytes, so files can be diffed, hashed and compared across runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter

from .fields import COLUMNS, HEADER, FieldSpec
from .model import Declaration, Kind

_LIST = TypeAdapter(list[Declaration])


def to_obj(decl: Declaration) -> dict[str, Any]:
    return decl.model_dump(mode="json")


def reference_dumps(obj: Any) -> str:
    """The definition of the canonical bytes: ``json.dumps(ensure_ascii=False, indent=2)`` and a newline."""
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


_SERIALIZER = Declaration.__pydantic_serializer__


def dumps_bytes(decl: Declaration) -> bytes:
    """A declaration's canonical JSON as a file holds it (UTF-8). pydantic's Rust serializer writes the same bytes
    as ``reference_dumps`` (a property test holds it to that) about five times faster, which bulk conversion
    feels; its bytes are taken as they come, without a round trip through a ``str``."""
    return _SERIALIZER.to_json(decl, indent=2) + b"\n"


def dumps(decl: Declaration) -> str:
    return dumps_bytes(decl).decode("utf-8")


def dumps_many(decls: Iterable[Declaration]) -> str:
    return _LIST.dump_json(list(decls), indent=2).decode() + "\n"


def loads(text: str | bytes) -> list[Declaration]:
    """One declaration or an array of them, as ``to-json`` writes."""
    data = json.loads(text)
    if isinstance(data, list):
        return _LIST.validate_python(data)
    return [Declaration.model_validate(data)]


_KIND_TEXT = {
    Kind.TEXT: "text as written (trimmed), or null",
    Kind.LONG_TEXT: "a long text as written (paragraphs kept, HTML leaked from web systems turned into text), or null",
    Kind.DATE: "a date, YYYY-MM-DD, or null",
    Kind.FLAG: "是/否 as a boolean, or null",
    Kind.MONEY: "an amount in 元 as a decimal string with two places, whatever unit the form prints "
                "(万元 is converted exactly), or null",
    Kind.CHOICE: "text as written; the profile lists the expected values",
    Kind.YEAR: "the budget year, or null",
    Kind.NUMBER: "a number kept as written (text), or null",
    Kind.PERIOD: "which table of a form with long-term and annual tables the row came from",
}


def _describe(spec: FieldSpec) -> str:
    parts = [_KIND_TEXT[spec.kind] + "."]
    if spec.choices:
        parts.append(f"Values from the profile list `{spec.choices}`.")
    if len(spec.spellings) > 1:
        parts.append("Printed on forms as " + " / ".join(spec.spellings) + ".")
    if spec.meta.new:
        parts.append("Left out of the JSON while empty.")
    return " ".join(parts)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of canonical JSON; every key carries its label, its kind and a description
    derived from the field registry, as readers and writers see it."""
    schema = Declaration.model_json_schema(mode="serialization")
    sections = {"Declaration": "", "Project": "project.", "Budget": "budget."}
    for model, prefix in sections.items():
        props = (schema if model == "Declaration" else schema["$defs"][model])["properties"]
        for key, prop in props.items():
            spec = HEADER.get(prefix + key)
            if spec is not None:
                prop["description"] = _describe(spec)
    for key, prop in schema["$defs"]["Indicator"]["properties"].items():
        prop["description"] = _describe(COLUMNS[key])
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
