"""Check request parameters against the SDK's own generated TypedDicts.

The installed ``stripe`` package carries, for every endpoint, a TypedDict of the
request parameters generated from Stripe's OpenAPI spec (``stripe/params/_*_params.py``).
This module reads their annotations at start-up, so the sandbox refuses unknown
parameters, missing required ones and values of the wrong type exactly where
the SDK's types say, without a hand-kept list.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union, get_args, get_origin

from typing_extensions import is_typeddict

from .errors import StripeError, invalid, missing

_REQUEST_OPTION_KEYS = {
    "api_key",
    "stripe_version",
    "stripe_account",
    "stripe_context",
    "max_network_retries",
    "idempotency_key",
    "content_type",
    "headers",
}


@dataclass
class Schema:
    """A node of a parameter schema."""

    kind: str  # any, str, int, float, bool, enum, union, list, dict, obj
    values: tuple[Any, ...] = ()  # enum values
    options: list[Schema] = field(default_factory=list)  # union members
    item: Schema | None = None  # list/dict element
    fields: dict[str, Schema] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    name: str = ""


ANY = Schema("any")
_cache: dict[type, Schema] = {}
_lock = threading.RLock()  # schemas are built by a warm-up thread and by requests


def _eval(ann: Any, ns: dict[str, Any]) -> Any:
    if isinstance(ann, str):
        ann = eval(ann, ns)  # noqa: S307 - annotations of the installed SDK
    if isinstance(ann, ForwardRef):
        ann = eval(ann.__forward_arg__, ns)  # noqa: S307
    return ann


def _schema(ann: Any, ns: dict[str, Any]) -> Schema:
    try:
        ann = _eval(ann, ns)
    except Exception:
        return ANY
    origin = get_origin(ann)
    if origin in (NotRequired, Required):
        return _schema(get_args(ann)[0], ns)
    if ann is str:
        return Schema("str")
    if ann is bool:
        return Schema("bool")
    if ann is int:
        return Schema("int")
    if ann in (float, Decimal):
        return Schema("float")
    if origin is Literal:
        return Schema("enum", values=get_args(ann))
    if origin is Union or (sys.version_info >= (3, 10) and origin is __import__("types").UnionType):
        return Schema("union", options=[_schema(a, ns) for a in get_args(ann)])
    if origin in (list, typing.List):  # noqa: UP006
        return Schema("list", item=_schema(get_args(ann)[0], ns))
    if origin in (dict, typing.Dict):  # noqa: UP006
        return Schema("dict", item=_schema(get_args(ann)[1], ns))
    if isinstance(ann, type) and is_typeddict(ann):
        return typed_dict_schema(ann)
    name = getattr(ann, "__name__", "") or getattr(origin, "__name__", "")
    if "StripeObject" in name:
        args = get_args(ann)
        return Schema("dict", item=_schema(args[0], ns) if args else ANY)
    return ANY


def typed_dict_schema(cls: type) -> Schema:
    """Return (and cache) the schema of a TypedDict of request parameters."""
    if cls in _cache:
        return _cache[cls]
    node = Schema("obj", name=cls.__name__)
    _cache[cls] = node
    ns = dict(vars(sys.modules[cls.__module__]))
    for key, ann in cls.__annotations__.items():
        if key in _REQUEST_OPTION_KEYS:
            continue
        node.fields[key] = _schema(ann, ns)
    node.required = frozenset(
        k for k in getattr(cls, "__required_keys__", frozenset()) if k not in _REQUEST_OPTION_KEYS
    )
    return node


def load(class_path: str) -> Schema:
    """Return the schema of ``"checkout.SessionCreateParams"`` or ``"CustomerCreateParams"``."""
    sub, _, name = class_path.rpartition(".")
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    module = "stripe.params" + (f".{sub}" if sub else "") + f"._{snake}"
    with _lock:
        cls = getattr(importlib.import_module(module), name)
        return typed_dict_schema(cls)


class _Mismatch(Exception):
    def __init__(self, error: StripeError) -> None:
        self.error = error


_ORDER = {
    "enum": 0,
    "bool": 1,
    "int": 2,
    "float": 3,
    "obj": 4,
    "list": 5,
    "dict": 6,
    "str": 7,
    "any": 8,
    "union": 9,
}


def _type_error(schema: Schema, value: Any, path: str) -> StripeError:
    if schema.kind == "int":
        return invalid(path, f"Invalid integer: {value}", "parameter_invalid_integer")
    if schema.kind == "float":
        return invalid(path, f"Invalid decimal: {value}", "parameter_invalid_decimal")
    if schema.kind == "bool":
        return invalid(path, f"Invalid boolean: {value}", "parameter_invalid_boolean")
    if schema.kind == "enum":
        opts = ", ".join(repr(v) if v == "" else str(v) for v in schema.values)
        return invalid(path, f"Invalid {path}: must be one of {opts}", None)
    if schema.kind == "list":
        return invalid(path, "Invalid array", "parameter_invalid_array")
    if schema.kind in ("obj", "dict"):
        return invalid(path, "Invalid object", "parameter_invalid_object")
    return invalid(path, f"Invalid string: {value!r}", "parameter_invalid_string")


def check(schema: Schema, value: Any, path: str) -> Any:
    """Return ``value`` converted to the schema's types; raise StripeError if it does not fit."""
    kind = schema.kind
    if kind == "any":
        return value
    if kind == "union":
        errors: list[StripeError] = []
        for option in sorted(schema.options, key=lambda s: _ORDER[s.kind]):
            try:
                return check(option, value, path)
            except StripeError as exc:
                errors.append(exc)
        # Report the most specific failure: a nested one if the value had a shape.
        nested = [e for e in errors if e.param and e.param != path]
        raise nested[0] if nested else errors[-1]
    if kind == "enum":
        if isinstance(value, str) and value in [str(v) for v in schema.values]:
            return value
        raise _type_error(schema, value, path)
    if kind == "str":
        if isinstance(value, str):
            return value
        raise _type_error(schema, value, path)
    if kind == "bool":
        if value in ("true", "false"):
            return value == "true"
        raise _type_error(schema, value, path)
    if kind == "int":
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value):
            return int(value)
        raise _type_error(schema, value, path)
    if kind == "float":
        try:
            if isinstance(value, str):
                return float(Decimal(value))
        except InvalidOperation:
            pass
        raise _type_error(schema, value, path)
    if kind == "list":
        if isinstance(value, dict) and not value:
            value = []
        if not isinstance(value, list):
            raise _type_error(schema, value, path)
        assert schema.item is not None
        return [check(schema.item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "dict":
        if isinstance(value, list):
            value = {str(i): v for i, v in enumerate(value)}
        if not isinstance(value, dict):
            raise _type_error(schema, value, path)
        assert schema.item is not None
        return {k: check(schema.item, v, f"{path}[{k}]") for k, v in value.items()}
    if kind == "obj":
        if not isinstance(value, dict):
            raise _type_error(schema, value, path)
        return check_object(schema, value, path)
    raise AssertionError(kind)


def check_object(schema: Schema, value: dict[str, Any], path: str = "") -> dict[str, Any]:
    """Check a dict of params against an ``obj`` schema; unknown keys are refused."""
    out: dict[str, Any] = {}
    for key, sub in value.items():
        sub_path = f"{path}[{key}]" if path else key
        if key not in schema.fields:
            raise StripeError(
                f"Received unknown parameter: {sub_path}", code="parameter_unknown", param=sub_path
            )
        out[key] = check(schema.fields[key], sub, sub_path)
    for key in sorted(schema.required):
        if key not in value:
            raise missing(f"{path}[{key}]" if path else key)
    return out
