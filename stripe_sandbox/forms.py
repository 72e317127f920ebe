"""Decode Stripe's form encoding (``a[b][0][c]=v``) into nested dicts and lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import StripeError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _bad(param: str) -> StripeError:
    return StripeError(
        f"Invalid value for {param}: conflicting or malformed keys",
        param=param,
        code="parameter_invalid",
    )


def decode(body: str) -> dict[str, Any]:
    """Return the nested params of a form-encoded string; raise StripeError if malformed."""
    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise StripeError("Malformed request body", code="parameter_invalid") from exc
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        m = _KEY.match(raw_key)
        if not m:
            raise _bad(raw_key)
        parts = [m.group(1), *re.findall(r"\[([^\[\]]*)\]", m.group(2))]
        node: dict[str, Any] = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":
                # ``a[]=x``: append at the next free index.
                part = str(len(node))
            if last:
                if part in node and isinstance(node[part], dict):
                    raise _bad(raw_key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise _bad(raw_key)
                node = child
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v) for k, v in node.items()}
    if out and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out
