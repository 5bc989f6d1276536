"""Every field of a declaration as one registry, derived from the model: path, label, kind, list and spellings.

Readers, writers, the template's validation, the live functions, rule messages and the JSON Schema ask this
module; none of them lists fields of a kind by hand, so a new field is one line on the model.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from .model import Budget, Declaration, Indicator, Kind, Meta, Project, Record, fields_of

INDICATOR_PREFIX = "indicators[]."


@dataclass(frozen=True)
class FieldSpec:
    """One field: where it sits in the model, its label on the form, and its metadata."""

    path: str  # "project.name", "budget.total", "year", or "indicators[].target" for a table column
    label: str
    meta: Meta

    @property
    def key(self) -> str:
        """The last part of the path: the model attribute."""
        return self.path.rsplit(".", 1)[-1]

    @property
    def kind(self) -> Kind:
        return self.meta.kind

    @property
    def choices(self) -> str | None:
        return self.meta.choices

    @property
    def spellings(self) -> tuple[str, ...]:
        """The label and every other spelling forms in use print for this field."""
        return tuple(dict.fromkeys((self.label, *self.meta.spellings)))


def _specs(model: type[Record], prefix: str) -> dict[str, FieldSpec]:
    return {prefix + d.name: FieldSpec(prefix + d.name, d.title, d.meta) for d in fields_of(model) if d.meta}


# Header fields in the model's order: the declaration's own, then the project's and the budget's.
HEADER: dict[str, FieldSpec] = {**_specs(Declaration, ""), **_specs(Project, "project."), **_specs(Budget, "budget.")}
# The indicator table's columns, in the model's order (canonical JSON order).
COLUMNS: dict[str, FieldSpec] = _specs(Indicator, "")
BUDGET_FIELDS: tuple[str, ...] = tuple(p for p in HEADER if p.startswith("budget."))


@cache
def header_paths(kind: Kind) -> tuple[str, ...]:
    """The header fields of one kind (every date field, every amount…)."""
    return tuple(p for p, s in HEADER.items() if s.kind is kind)


@cache
def field_labels() -> dict[str, str]:
    """Field path → the model's label (``project.name`` → 项目名称; ``indicators[].target`` → 指标目标值).

    A profile may print another label for a field (``Profile.label``); messages about a declaration use that."""
    out = {p: s.label for p, s in HEADER.items()}
    out.update({INDICATOR_PREFIX + k: s.label for k, s in COLUMNS.items()})
    return out


def get_field(decl: Declaration, path: str) -> Any:
    """Value at a dotted path such as ``project.name``."""
    return _getter(path)(decl)


@lru_cache(maxsize=1024)
def _getter(path: str) -> operator.attrgetter[Any]:
    """``attrgetter`` follows a dotted path attribute by attribute, in C: asked for every field of every form."""
    return operator.attrgetter(path)


def section_of(path: str) -> str | None:
    """The sub-model a header path belongs to (``project``, ``budget``) or None for the declaration's own."""
    return path.split(".", 1)[0] if "." in path else None


def declaration_from(fields: dict[str, Any], **rest: Any) -> Declaration:
    """A declaration from header values keyed by path (``project.name`` → …) and the other parts."""
    top: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {"project": {}, "budget": {}}
    for path, value in fields.items():
        section = section_of(path)
        if section is None:
            top[path] = value
        else:
            parts[section][path.split(".", 1)[1]] = value
    return Declaration(**top, **parts, **rest)  # which validates only what could change
