"""Customer portal deep links: a session's ``flow_data``, checked and stored as its ``flow``,
and the hosted page's one-step confirmation of a ``subscription_update_confirm`` flow."""

from __future__ import annotations

from typing import Any

from .. import lifecycle
from ..app import Sandbox
from ..errors import StripeError, invalid, missing
from .items import load_price

FLOW_TYPES = (
    "customer_update",
    "payment_method_update",
    "subscription_cancel",
    "subscription_pause",
    "subscription_update",
    "subscription_update_confirm",
)
# The flow types that act on one subscription, each under its own key.
SUBSCRIPTION_FLOWS = (
    "subscription_cancel",
    "subscription_pause",
    "subscription_update",
    "subscription_update_confirm",
)


def _after_completion(given: dict[str, Any] | None) -> dict[str, Any]:
    given = given or {}
    kind = given.get("type") or "portal_homepage"
    result: dict[str, Any] = {"hosted_confirmation": None, "redirect": None, "type": kind}
    if kind == "redirect":
        if not given.get("redirect"):
            raise missing("flow_data[after_completion][redirect]")
        result["redirect"] = {"return_url": given["redirect"]["return_url"]}
    elif kind == "hosted_confirmation":
        message = (given.get("hosted_confirmation") or {}).get("custom_message")
        result["hosted_confirmation"] = {"custom_message": message}
    return result


def _subscription(sb: Sandbox, flow: str, given: dict[str, Any], customer: dict[str, Any]) -> Any:
    param = f"flow_data[{flow}][subscription]"
    sub = sb.load(given.get("subscription"), "subscription", param)
    if sub["customer"] != customer["id"]:
        raise invalid(
            param, f"The subscription {sub['id']} does not belong to customer {customer['id']}."
        )
    if sub["status"] in lifecycle.ENDED:
        raise invalid(param, f"The subscription {sub['id']} is canceled and cannot be updated.")
    return sub


def _update_confirm(
    sb: Sandbox, given: dict[str, Any], sub: dict[str, Any], conf: dict[str, Any]
) -> dict[str, Any]:
    """Check a ``subscription_update_confirm`` flow against the subscription and the
    configuration's ``subscription_update`` feature, as Stripe does."""
    base = "flow_data[subscription_update_confirm]"
    feature = conf["features"]["subscription_update"]
    if not feature.get("enabled"):
        raise invalid(
            "flow_data[type]",
            "The subscription update feature is disabled in this portal configuration.",
        )
    items = given.get("items") or []
    if not items:
        raise missing(f"{base}[items]")
    if len(items) > 1:
        raise invalid(f"{base}[items]", "Only one subscription item can be updated in a flow.")
    item = items[0]
    owned = {it["id"]: it for it in sub["items"]["data"]}
    if item.get("id") not in owned:
        raise StripeError(
            f"No such subscription item: '{item.get('id')}'",
            status=404,
            code="resource_missing",
            param=f"{base}[items][0][id]",
        )
    if "price" not in item and "quantity" not in item:
        raise missing(f"{base}[items][0][price]")
    if "price" in item:
        price_param = f"{base}[items][0][price]"
        price = load_price(sb, item["price"], price_param)
        allowed = {pid for p in feature.get("products") or [] for pid in p.get("prices") or []}
        if allowed and price["id"] not in allowed:
            raise invalid(
                price_param,
                f"The price {price['id']} is not in this portal configuration's "
                "features.subscription_update.products.",
            )
    return {
        "discounts": given.get("discounts") or [],
        "items": [{"id": item["id"], "price": item.get("price"), "quantity": item.get("quantity")}],
        "subscription": sub["id"],
    }


def flow_from(
    sb: Sandbox, given: dict[str, Any] | None, customer: dict[str, Any], conf: dict[str, Any]
) -> dict[str, Any] | None:
    """Return the session's ``flow`` for ``flow_data`` (None without it); refuse what Stripe
    refuses (a subscription of another customer or canceled, an item or price not allowed)."""
    if not given:
        return None
    kind = given.get("type")
    if not kind:
        raise missing("flow_data[type]")
    if kind not in FLOW_TYPES:
        raise invalid("flow_data[type]", f"Invalid flow_data[type]: must be one of {FLOW_TYPES}")
    flow: dict[str, Any] = {
        "after_completion": _after_completion(given.get("after_completion")),
        "customer_update": {} if kind == "customer_update" else None,
        **{name: None for name in SUBSCRIPTION_FLOWS},
        "type": kind,
    }
    if kind in SUBSCRIPTION_FLOWS:
        if not given.get(kind):
            raise missing(f"flow_data[{kind}]")
        sub = _subscription(sb, kind, given[kind], customer)
        if kind == "subscription_update_confirm":
            flow[kind] = _update_confirm(sb, given[kind], sub, conf)
        else:
            flow[kind] = {**given[kind], "subscription": sub["id"]}
    return flow


def pending_update(bps: dict[str, Any]) -> dict[str, Any] | None:
    """The ``subscription_update_confirm`` the session's page still asks to confirm."""
    flow = bps.get("flow") or {}
    if flow.get("type") != "subscription_update_confirm" or bps.get("_x", {}).get("completed"):
        return None
    confirm: dict[str, Any] = flow["subscription_update_confirm"]
    return confirm


def completion_target(bps: dict[str, Any], base_page: str, message: str) -> tuple[str, str]:
    """Where the browser goes once the flow is done, and the message for the portal page:
    the redirect's ``return_url``, or the portal page with the custom message or ours."""
    after = (bps.get("flow") or {}).get("after_completion") or {}
    if after.get("type") == "redirect":
        return after["redirect"]["return_url"], message
    custom = (after.get("hosted_confirmation") or {}).get("custom_message")
    return base_page, custom or message
