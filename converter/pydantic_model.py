"""The pydantic model of a declaration, derived from ``model``'s declarations on first need.

Reading and checking never import this module: a record's constructor asks it only for a value its field's own
taker cannot say about, and canonical JSON is written by ``canonical``. It validates JSON input (with pydantic's
located errors, which ``json_input`` words in Chinese) and gives the JSON Schema; each model has the class's name,
fields, titles and types, so its schema and its errors are those of the record it is derived from.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Annotated, Any, TypeVar, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    WithJsonSchema,
    create_model,
)

from .model import VALIDATORS, YEAR_MAX, YEAR_MIN, Declaration, FieldDef, Kind, Record, built, fields_of, money_str

_CONFIG = ConfigDict(extra="forbid", validate_assignment=True)
_R = TypeVar("_R", bound=Record)

# What pydantic adds to a kind beyond its validator: how an amount and a date are written and described.
_EXTRAS: dict[Kind, tuple[Any, ...]] = {
    Kind.MONEY: (
        PlainSerializer(money_str, return_type=str | None, when_used="always"),
        WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}, {"type": "null"}]}),
    ),
    Kind.DATE: (WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}),),
}


def _is_none(value: Any) -> bool:
    return value is None


def _annotation(d: FieldDef) -> Any:
    if d.record is not None:
        inner = pydantic_of(d.record)
        return list[inner] if d.many else inner  # type: ignore[valid-type]
    if d.meta is None or d.meta.kind not in VALIDATORS:
        return d.hint  # a str, a Literal, a year (ranged by its Field) or a period (a Literal)
    return Annotated[d.hint, BeforeValidator(VALIDATORS[d.meta.kind]), *_EXTRAS.get(d.meta.kind, ())]


def _field(d: FieldDef) -> Any:
    where: dict[str, Any] = {"title": d.title}
    if d.new:
        where["exclude_if"] = _is_none  # a newer key stays out of the JSON while empty
    if d.meta is not None and d.meta.kind is Kind.YEAR:
        where.update(ge=YEAR_MIN, le=YEAR_MAX)
    if d.factory is not None:
        factory = pydantic_of(d.record) if d.record is not None and not d.many else d.factory
        return Field(default_factory=factory, **where)
    return Field(**where) if d.required else Field(d.default, **where)


_MODELS: dict[type[Record], type[BaseModel]] = {}


def pydantic_of(cls: type[Record]) -> type[BaseModel]:
    """The pydantic model of a record class, made once."""
    model = _MODELS.get(cls)
    if model is None:
        fields: dict[str, Any] = {d.name: (_annotation(d), _field(d)) for d in fields_of(cls)}
        model = _MODELS[cls] = create_model(cls.__name__, __config__=_CONFIG, __doc__=cls.__doc__, **fields)
    return model


def _given(d: FieldDef, value: Any) -> Any:
    """A field's value as the pydantic model is given it. A record of the field's class is taken as it is, as
    pydantic takes a model instance (``revalidate_instances="never"``): an empty stand-in is validated in its place
    and the record put back (``_kept``). Any other iterable for a list is taken as pydantic takes it, as a list."""
    if d.record is None:
        return value
    if not d.many:
        return {} if value.__class__ is d.record else value
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | dict | Record):
        return [{} if v.__class__ is d.record else v for v in value]
    return value


def _record(cls: type[_R], model: BaseModel) -> _R:
    return built(cls, _values(cls, model))


def _values(cls: type[Record], model: BaseModel) -> dict[str, Any]:
    out = dict(model.__dict__)
    for d in fields_of(cls):
        if d.record is not None:
            sub = d.record
            out[d.name] = [_record(sub, m) for m in out[d.name]] if d.many else _record(sub, out[d.name])
    return out


def _one_pass(d: FieldDef | None, value: Any) -> bool:
    """Whether a list field was given an iterable other than a list or tuple (a generator, a set…), read once."""
    return d is not None and d.many and isinstance(value, Iterable) and \
        not isinstance(value, list | tuple | str | bytes | dict | Record)


def validated_values(cls: type[Record], values: dict[str, Any]) -> dict[str, Any]:
    """A record's fields as its pydantic model validates ``values``; pydantic's ``ValidationError`` if it refuses.
    A record given for a field, or in its list, is kept as it is, as pydantic keeps a model given."""
    defs = {d.name: d for d in fields_of(cls)}
    values = {k: list(v) if _one_pass(defs.get(k), v) else v for k, v in values.items()}
    out = _values(cls, pydantic_of(cls)(**{k: _given(defs[k], v) if k in defs else v for k, v in values.items()}))
    for name, value in values.items():
        d = defs.get(name)
        if d is not None and d.record is not None:
            out[name] = _kept(d, value, out[name])
    return out


def _kept(d: FieldDef, value: Any, validated: Any) -> Any:
    """The records given put back in their places (``_given``)."""
    if not d.many:
        return value if value.__class__ is d.record else validated
    return [g if g.__class__ is d.record else v for g, v in zip(value, validated, strict=True)]


def validated_field(cls: type[Record], name: str, value: Any) -> Any:
    """One field's value as the pydantic model validates an assignment of it; ``ValidationError`` if it refuses."""
    d = next((d for d in fields_of(cls) if d.name == name), None)
    if _one_pass(d, value):
        value = list(value)
    model = pydantic_of(cls).model_construct()
    setattr(model, name, value if d is None else _given(d, value))
    if d is None or d.record is None:
        return getattr(model, name)
    return _kept(d, value, _values(cls, model)[name])


@cache
def _declarations() -> TypeAdapter[list[Any]]:
    return TypeAdapter(cast(Any, list[pydantic_of(Declaration)]))  # type: ignore[misc]


def declarations_from(data: Any) -> list[Declaration]:
    """Declarations from parsed JSON: one object or an array of them."""
    if isinstance(data, list):
        return [_record(Declaration, m) for m in _declarations().validate_python(data)]
    return [_record(Declaration, pydantic_of(Declaration).model_validate(data))]


def json_schema() -> dict[str, Any]:
    return pydantic_of(Declaration).model_json_schema(mode="serialization")

