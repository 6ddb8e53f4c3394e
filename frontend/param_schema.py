"""Form fields from the JSON Schemas the backend serves at GET /api/v1/model_types.

The backend's parameter schemas (`backend/ml/params.py`) are the one source of the Train form's
fields, defaults, bounds and help texts; this module turns a schema into field descriptions,
checks a value against its schema before a round trip, and turns widget values into the JSON
a fit takes. Pure functions: no Streamlit, no HTTP.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

FieldKind = Literal["bool", "choice", "int", "float", "number", "pair", "json"]


@dataclass(frozen=True)
class FormField:
    """One input: its kind, default, help text and the schema branches a value may match."""

    name: str
    kind: FieldKind
    default: Any
    help: str
    nullable: bool
    # The non-null alternatives of the property's schema (one unless it is a union).
    branches: tuple[dict[str, Any], ...]
    choices: tuple[Any, ...] = ()

    @property
    def minimum(self) -> float | None:
        """The lowest value any branch allows (inclusive or not), for the widget's bound."""
        lows = [_low(b) for b in self.branches]
        return None if not lows or None in lows else min(x for x in lows if x is not None)

    @property
    def maximum(self) -> float | None:
        highs = [_high(b) for b in self.branches]
        return None if not highs or None in highs else max(x for x in highs if x is not None)


def _low(schema: dict[str, Any]) -> float | None:
    value = schema.get("minimum", schema.get("exclusiveMinimum"))
    return None if value is None else float(value)


def _high(schema: dict[str, Any]) -> float | None:
    value = schema.get("maximum", schema.get("exclusiveMaximum"))
    return None if value is None else float(value)


def _is_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null"


def _kind(branches: list[dict[str, Any]]) -> FieldKind:
    if all("const" in b or "enum" in b for b in branches):
        return "choice"
    if len(branches) == 1:
        only = branches[0]
        simple = {"boolean": "bool", "integer": "int", "number": "float"}
        if only.get("type") in simple:
            return simple[only["type"]]  # type: ignore[return-value]  # values are FieldKinds
        items = only.get("prefixItems", [])
        pair = len(items) == 2 and all(i.get("type") == "integer" for i in items)
        if only.get("type") == "array" and pair:
            return "pair"
    if branches and all(b.get("type") in ("integer", "number") for b in branches):
        return "number"
    return "json"


def form_fields(schema: dict[str, Any], skip: tuple[str, ...] = ()) -> list[FormField]:
    """The inputs of an object schema, in its order; read-only properties are left out."""
    fields = []
    for name, prop in schema.get("properties", {}).items():
        if name in skip or prop.get("readOnly"):
            continue
        options = prop.get("anyOf", [prop])
        branches = [b for b in options if not _is_null(b)]
        kind = _kind(branches)
        choices: tuple[Any, ...] = ()
        if kind == "choice":
            values = [v for b in branches for v in (b["enum"] if "enum" in b else [b["const"]])]
            nullable = len(branches) < len(options)
            choices = tuple(values) + ((None,) if nullable else ())
        fields.append(
            FormField(
                name=name,
                kind=kind,
                default=prop.get("default"),
                help=prop.get("description", ""),
                nullable=len(branches) < len(options),
                branches=tuple(branches),
                choices=choices,
            )
        )
    return fields


def _fits(schema: dict[str, Any], value: Any) -> bool:
    if "const" in schema:
        return bool(value == schema["const"])
    if "enum" in schema:
        return value in schema["enum"]
    kind = schema.get("type")
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        items = schema.get("prefixItems")
        if not isinstance(value, list | tuple):
            return False
        return items is None or (
            len(value) == len(items) and all(_fits(s, v) for s, v in zip(items, value, strict=True))
        )
    if kind == "object":
        return isinstance(value, dict)
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if kind == "integer" and not float(value).is_integer():
            return False
        return _in_bounds(schema, float(value))
    return True  # a schema this form does not know: the server decides


def _in_bounds(schema: dict[str, Any], value: float) -> bool:
    checks = (
        ("minimum", lambda bound: value >= bound),
        ("exclusiveMinimum", lambda bound: value > bound),
        ("maximum", lambda bound: value <= bound),
        ("exclusiveMaximum", lambda bound: value < bound),
    )
    return all(key not in schema or ok(float(schema[key])) for key, ok in checks)


def describe(schema: dict[str, Any]) -> str:
    """What a schema allows, in words: `> 0 and ≤ 1e+06`, `a whole number ≥ 1`."""
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return f"one of {schema['enum']}"
    kind = schema.get("type")
    words = {"integer": "a whole number", "number": "a number", "boolean": "true or false"}
    parts = []
    for key, sign in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in schema:
            parts.append(f"{sign} {float(schema[key]):g}")
    if kind == "array" and schema.get("prefixItems"):
        inner = " and ".join(describe(item) for item in schema["prefixItems"])
        return f"a list of {len(schema['prefixItems'])} ({inner})"
    bounds = " and ".join(parts)
    return f"{words.get(str(kind), str(kind))} {bounds}".strip()


def problem(field: FormField, value: Any) -> str | None:
    """Why `value` is not allowed for `field` (worded for the form), or None when it is."""
    if value is None:
        return None if field.nullable else "give a value"
    if any(_fits(branch, value) for branch in field.branches):
        return None
    if field.kind == "choice":
        return f"must be one of {[c for c in field.choices if c is not None]}"
    if len(field.branches) == 1 and field.kind in ("int", "float"):
        branch = field.branches[0]
        if field.kind == "int" and not (
            isinstance(value, int | float) and float(value).is_integer()
        ):
            return "must be a whole number"
        for key, sign in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
        ):
            if key in branch and not _in_bounds({key: branch[key]}, float(value)):
                return f"must be {sign} {float(branch[key]):g}"
    return "must be " + " or ".join(describe(b) for b in field.branches)


def to_json_value(field: FormField, value: Any) -> Any:
    """A widget's value as the fit takes it: `2.0` in a count-or-share field is the count 2,
    `0.5` the share; JSON text is parsed (ValueError if it is not JSON)."""
    if value is None:
        return None
    if field.kind == "json":
        text = str(value).strip()
        return json.loads(text) if text else None
    if field.kind == "number" and isinstance(value, int | float) and math.isfinite(value):
        for branch in field.branches:
            candidate: Any = value
            if branch.get("type") == "integer":
                if not float(value).is_integer():
                    continue
                candidate = int(value)
            else:
                candidate = float(value)
            if _fits(branch, candidate):
                return candidate
        return value
    if field.kind == "int":
        return int(value)
    if field.kind == "pair":
        return [int(v) for v in value]
    return value


def problems(fields: list[FormField], values: dict[str, Any], prefix: str = "") -> list[str]:
    """Every value that its field does not allow, as `name: must be …` lines."""
    lines = []
    for field in fields:
        if field.name in values:
            reason = problem(field, values[field.name])
            if reason:
                lines.append(f"{prefix}{field.name}: {reason}")
    return lines


def changed(
    fields: list[FormField], values: dict[str, Any], defaults: dict[str, Any]
) -> dict[str, Any]:
    """Only the values that differ from the defaults shown: the server fills in the rest, so
    rules between fields (e.g. a union vectorizer's own defaults) stay on the server."""
    names = {f.name for f in fields}
    return {
        name: value
        for name, value in values.items()
        if name in names and _normal(value) != _normal(defaults.get(name))
    }


def _normal(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_normal(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value
