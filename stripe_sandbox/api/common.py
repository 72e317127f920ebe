"""Helpers shared by the resource modules: lists, filters, metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import StripeError, invalid, no_such

if TYPE_CHECKING:
    from ..app import Sandbox


def paginate(items: list[dict[str, Any]], p: dict[str, Any], url: str) -> dict[str, Any]:
    """Return a Stripe list page of ``items`` (newest first): limit, starting_after,
    ending_before."""
    limit = p.get("limit", 10)
    if not 1 <= limit <= 100:
        raise invalid(
            "limit", "Invalid limit: must be between 1 and 100", "parameter_invalid_integer"
        )
    ids = [o["id"] for o in items]
    if p.get("starting_after") and p.get("ending_before"):
        raise StripeError(
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="starting_after",
        )
    if p.get("starting_after"):
        cursor = p["starting_after"]
        if cursor not in ids:
            raise no_such("object", cursor, "starting_after")
        rest = items[ids.index(cursor) + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    elif p.get("ending_before"):
        cursor = p["ending_before"]
        if cursor not in ids:
            raise no_such("object", cursor, "ending_before")
        before = items[: ids.index(cursor)]
        page, has_more = before[-limit:], len(before) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def created_filter(value: Any, field: str = "created") -> Callable[[dict[str, Any]], bool]:
    """Return a predicate for Stripe's ``created`` (int or gt/gte/lt/lte) filter."""
    if value is None:
        return lambda o: True
    if isinstance(value, int):
        return lambda o: o.get(field) == value
    bounds = dict(value)

    def ok(o: dict[str, Any]) -> bool:
        v = o.get(field) or 0
        return (
            ("gt" not in bounds or v > bounds["gt"])
            and ("gte" not in bounds or v >= bounds["gte"])
            and ("lt" not in bounds or v < bounds["lt"])
            and ("lte" not in bounds or v <= bounds["lte"])
        )

    return ok


def live(sb: Sandbox, type_: str) -> list[dict[str, Any]]:
    """Return every non-deleted object of a type, newest first."""
    return [o for o in sb.store.all(type_) if not o.get("_deleted")]


def merge_metadata(current: dict[str, str], new: Any) -> dict[str, str]:
    """Apply a metadata update: ``""`` clears all, a key set to ``""`` is removed."""
    if new is None:
        return current
    if new == "":
        return {}
    out = dict(current)
    for k, v in new.items():
        if v == "":
            out.pop(k, None)
        else:
            out[k] = str(v)
    return out


def require(p: dict[str, Any], *names: str) -> None:
    from ..errors import missing

    for name in names:
        if p.get(name) in (None, ""):
            raise missing(name)


def set_fields(obj: dict[str, Any], p: dict[str, Any], names: Iterable[str]) -> None:
    """Copy the given params onto ``obj``; ``""`` unsets to None."""
    for name in names:
        if name in p:
            obj[name] = None if p[name] == "" else p[name]
