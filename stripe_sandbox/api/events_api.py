"""Events and webhook endpoints."""

from __future__ import annotations

import time
from typing import Any

from ..app import EVENT_RETENTION_SECONDS, Sandbox, diff
from ..errors import invalid, missing, no_such
from ..objects import core
from ..payments import snapshot
from ..routes import route
from .common import created_filter, live, merge_metadata, paginate, set_fields


def purge_events(sb: Sandbox) -> None:
    """Forget events older than 30 days, as Stripe does."""
    sb.store.purge_older_than("event", time.time() - EVENT_RETENTION_SECONDS)


@route("GET", "/v1/events", "EventListParams")
def event_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    purge_events(sb)
    created = created_filter(p.get("created"))
    types = set(p.get("types") or [])
    wanted = p.get("type")

    def type_ok(t: str) -> bool:
        if types and t not in types:
            return False
        if wanted:
            if wanted.endswith("*"):
                return t.startswith(wanted[:-1])
            return t == wanted
        return True

    if p.get("ending_before"):
        items = [e for e in sb.store.all("event") if type_ok(e["type"]) and created(e)]
        return paginate(items, p, "/v1/events")
    # Newest first from the cursor on, parsing only one page (and one more to know has_more).
    older = sb.store.iter_after("event", p.get("starting_after"))
    if older is None:
        raise no_such("object", p["starting_after"], "starting_after")
    page: list[dict[str, Any]] = []
    for e in older:
        if type_ok(e["type"]) and created(e):
            page.append(e)
            if len(page) > p.get("limit", 10):
                break
    return paginate(page, {**p, "starting_after": None}, "/v1/events")


@route("GET", "/v1/events/{id}", "EventRetrieveParams")
def event_retrieve(sb: Sandbox, p: dict[str, Any], evt_id: str) -> dict[str, Any]:
    purge_events(sb)
    return sb.load(evt_id, "event")


def _check_url(url: Any, param: str = "url") -> str:
    if not url:
        raise missing(param)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise invalid(param, "Invalid URL: URL must begin with http:// or https://", "url_invalid")
    return url


@route("POST", "/v1/webhook_endpoints", "WebhookEndpointCreateParams")
def endpoint_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    url = _check_url(p.get("url"))
    if not p.get("enabled_events"):
        raise missing("enabled_events")
    we = core.webhook_endpoint(
        now=sb.now(),
        url=url,
        enabled_events=p["enabled_events"],
        api_version=p.get("api_version"),
        description=p.get("description") or None,
        metadata=merge_metadata({}, p.get("metadata")),
    )
    sb.save(we)
    out = sb.public(we)
    out["secret"] = we["_secret"]  # only ever shown in the create response
    return out


@route("GET", "/v1/webhook_endpoints/{id}", "WebhookEndpointRetrieveParams")
def endpoint_retrieve(sb: Sandbox, p: dict[str, Any], we_id: str) -> dict[str, Any]:
    return sb.load(we_id, "webhook_endpoint")


@route("POST", "/v1/webhook_endpoints/{id}", "WebhookEndpointUpdateParams")
def endpoint_update(sb: Sandbox, p: dict[str, Any], we_id: str) -> dict[str, Any]:
    we = sb.load(we_id, "webhook_endpoint")
    before = snapshot(we)
    if "url" in p:
        we["url"] = _check_url(p["url"])
    set_fields(we, p, ["enabled_events", "description"])
    if "disabled" in p:
        we["status"] = "disabled" if p["disabled"] else "enabled"
    we["metadata"] = merge_metadata(we["metadata"], p.get("metadata"))
    if diff(before, we):
        sb.save(we)
    return we


@route("DELETE", "/v1/webhook_endpoints/{id}", "WebhookEndpointDeleteParams")
def endpoint_delete(sb: Sandbox, p: dict[str, Any], we_id: str) -> dict[str, Any]:
    we = sb.load(we_id, "webhook_endpoint")
    we["_deleted"] = True
    sb.save(we)
    return core.deleted(we)


@route("GET", "/v1/webhook_endpoints", "WebhookEndpointListParams")
def endpoint_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    return paginate(live(sb, "webhook_endpoint"), p, "/v1/webhook_endpoints")


def ensure_endpoint(sb: Sandbox, url: str, secret: str) -> dict[str, Any]:
    """Make sure ``url`` receives every event, signed with ``secret`` (random if empty)."""
    _check_url(url, "--webhook-endpoint")
    for we in live(sb, "webhook_endpoint"):
        if we["url"] == url:
            if secret:
                we["_secret"] = secret
            we["enabled_events"], we["status"] = ["*"], "enabled"
            return sb.save(we)
    we = core.webhook_endpoint(
        now=sb.now(),
        url=url,
        enabled_events=["*"],
        api_version=None,
        description="registered by --webhook-endpoint",
        metadata={},
    )
    if secret:
        we["_secret"] = secret
    return sb.save(we)
