"""Canonical JSON: the one byte form of a declaration.

UTF-8 without ``\\u`` escapes, keys in model order, two-space indent, a final newline. The same
declaration always gives the same bytes, so files can be diffed, hashed and compared across runs.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cache
from json.encoder import encode_basestring  # C: a string as json.dumps(ensure_ascii=False) writes it
from typing import Any

from .fields import COLUMNS, HEADER, FieldSpec
from .model import Declaration, FieldDef, Kind, Record, fields_of, money_str


def to_obj(decl: Declaration) -> dict[str, Any]:
    """A declaration as JSON values: amounts as two-place strings, dates ISO, a newer key left out while empty."""
    return _obj(decl)


def _obj(rec: Record) -> dict[str, Any]:
    out: dict[str, Any] = {}
    values = rec.__dict__
    for d in fields_of(type(rec)):
        value = values[d.name]
        if value is None and d.new:
            continue
        if d.record is not None:
            out[d.name] = [_obj(v) for v in value] if d.many else _obj(value)
        elif isinstance(value, Decimal):
            out[d.name] = money_str(value)
        elif isinstance(value, dt.date):
            out[d.name] = value.isoformat()
        else:
            out[d.name] = value
    return out


def reference_dumps(obj: Any) -> str:
    """The definition of the canonical bytes: ``json.dumps(ensure_ascii=False, indent=2)`` and a newline."""
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def _scalar(value: Any) -> str:
    """One value as ``reference_dumps`` writes it (not None, not a record)."""
    cls = value.__class__
    if cls is str:
        return encode_basestring(value)
    if cls is bool:
        return "true" if value else "false"
    if cls is Decimal:
        return f'"{money_str(value)}"'
    if cls is dt.date or isinstance(value, dt.date):  # a subclass too, as the model takes it
        return f'"{value.isoformat()}"'
    return json.dumps(value)  # a year


class _Plan:
    """How one record class is written: each field's key, whether it is left out while empty, its nested record.
    A record whose newer fields are all empty and whose others are texts (an indicator row, most often) is
    written through one format string."""

    def __init__(self, defs: tuple[FieldDef, ...]) -> None:
        self.fields = [(d.name, f'"{d.name}": ', d.new, d) for d in defs]
        news = [d.name for d in defs if d.new]
        cores = [d for d in defs if not d.new]
        texts = all(d.record is None and d.hint == (str | None) for d in cores) and len(news) > 1 and len(cores) > 1
        self.news: Callable[[dict[str, Any]], tuple[Any, ...]] | None = operator.itemgetter(*news) if texts else None
        self.empty = (None,) * len(news)
        self.cores = operator.itemgetter(*(d.name for d in cores))
        self.core_keys = [f'"{d.name}": ' for d in cores]

    @cache  # noqa: B019 - one plan a record class, for the program's life
    def template(self, pad: str) -> str:
        inner = pad + "  "
        return "{\n" + ",\n".join(f"{inner}{key}%s" for key in self.core_keys) + f"\n{pad}}}"


_PLANS: dict[type[Record], _Plan] = {}


def _plan(cls: type[Record]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(fields_of(cls))
    return plan


def _text_of(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _record_text(rec: Record, pad: str) -> str:
    plan = _plan(type(rec))
    values = rec.__dict__
    if plan.news is not None and plan.news(values) == plan.empty:
        return plan.template(pad) % tuple(map(_text_of, plan.cores(values)))
    inner = pad + "  "
    parts = []
    for name, key, new, d in plan.fields:
        value = values[name]
        if value is None:
            if not new:
                parts.append(f"{inner}{key}null")
        elif d.record is None:
            parts.append(inner + key + _scalar(value))
        elif not d.many:
            parts.append(inner + key + _record_text(value, inner))
        elif value:
            deeper = inner + "  "
            rows = f",\n{deeper}".join([_record_text(v, deeper) for v in value])
            parts.append(f"{inner}{key}[\n{deeper}{rows}\n{inner}]")
        else:
            parts.append(f"{inner}{key}[]")
    return "{\n" + ",\n".join(parts) + f"\n{pad}}}"


def dumps_bytes(decl: Declaration) -> bytes:
    """A declaration's canonical JSON as a file holds it (UTF-8): the bytes of ``reference_dumps(to_obj(decl))``
    (a property test holds it to that), written from the declared fields directly, about three times faster. A
    text that UTF-8 cannot hold (a lone surrogate, which no reader leaves) raises ``UnicodeEncodeError``."""
    return (_record_text(decl, "") + "\n").encode()


def dumps(decl: Declaration) -> str:
    return dumps_bytes(decl).decode()


def dumps_many(decls: Iterable[Declaration]) -> str:
    texts = [_record_text(d, "  ") for d in decls]
    text = ("[\n  " + ",\n  ".join(texts) + "\n]\n") if texts else "[]\n"
    text.encode()  # refused as dumps_bytes refuses it
    return text


def loads(text: str | bytes) -> list[Declaration]:
    """One declaration or an array of them, as ``to-json`` writes; pydantic's ``ValidationError`` if not valid."""
    from .pydantic_model import declarations_from

    return declarations_from(json.loads(text))


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
    from .pydantic_model import json_schema as pydantic_schema

    schema = pydantic_schema()
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
