"""Billing portal configurations and sessions, and the portal's actions."""

from __future__ import annotations

from typing import Any

from .. import lifecycle, payments
from ..app import Sandbox, diff
from ..errors import StripeError, missing
from ..objects import sessions
from ..routes import route
from .common import live, merge_metadata, paginate
from .items import switch_items
from .portal_flows import flow_from, pending_update


def _products(listed: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """``subscription_update.products`` as Stripe returns them: each with its
    ``adjustable_quantity`` (off unless given)."""
    return [
        {
            "adjustable_quantity": {
                "enabled": False,
                "maximum": None,
                "minimum": 1,
                **(product.get("adjustable_quantity") or {}),
            },
            "prices": list(product.get("prices") or []),
            "product": product.get("product"),
        }
        for product in listed or []
    ]


def _features(given: dict[str, Any] | None) -> dict[str, Any]:
    given = given or {}
    update = given.get("subscription_update")
    if update and "products" in update:
        given = {
            **given,
            "subscription_update": {**update, "products": _products(update["products"])},
        }

    def part(name: str, default: dict[str, Any]) -> dict[str, Any]:
        return {**default, **(given.get(name) or {})}

    return {
        "customer_update": part("customer_update", {"allowed_updates": [], "enabled": False}),
        "invoice_history": part("invoice_history", {"enabled": False}),
        "payment_method_update": part(
            "payment_method_update", {"enabled": False, "payment_method_configuration": None}
        ),
        "subscription_cancel": part(
            "subscription_cancel",
            {
                "cancellation_reason": {"enabled": False, "options": []},
                "enabled": False,
                "mode": "at_period_end",
                "proration_behavior": "none",
            },
        ),
        "subscription_update": part(
            "subscription_update",
            {
                "billing_cycle_anchor": None,
                "default_allowed_updates": [],
                "enabled": False,
                "products": [],
                "proration_behavior": "create_prorations",
                "schedule_at_period_end": {"conditions": []},
                "trial_update_behavior": "end_trial",
            },
        ),
    }


def _profile(given: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "headline": None,
        "privacy_policy_url": None,
        "terms_of_service_url": None,
        **(given or {}),
    }


@route("POST", "/v1/billing_portal/configurations", "billing_portal.ConfigurationCreateParams")
def configuration_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("features"):
        raise missing("features")
    is_default = not live(sb, "billing_portal.configuration")
    conf = sessions.portal_configuration(
        now=sb.now(),
        is_default=is_default,
        features=_features(p["features"]),
        business_profile=_profile(p.get("business_profile")),
        default_return_url=p.get("default_return_url") or None,
        metadata=merge_metadata({}, p.get("metadata")),
        name=p.get("name"),
    )
    sb.save(conf)
    sb.emit("billing_portal.configuration.created", conf)
    return conf


@route(
    "GET", "/v1/billing_portal/configurations/{id}", "billing_portal.ConfigurationRetrieveParams"
)
def configuration_retrieve(sb: Sandbox, p: dict[str, Any], bpc_id: str) -> dict[str, Any]:
    return sb.load(bpc_id, "billing_portal.configuration")


@route("POST", "/v1/billing_portal/configurations/{id}", "billing_portal.ConfigurationUpdateParams")
def configuration_update(sb: Sandbox, p: dict[str, Any], bpc_id: str) -> dict[str, Any]:
    conf = sb.load(bpc_id, "billing_portal.configuration")
    before = payments.snapshot(conf)
    if "features" in p:
        merged = {
            k: {**conf["features"][k], **(p["features"].get(k) or {})} for k in conf["features"]
        }
        update = merged["subscription_update"]
        update["products"] = _products(update.get("products"))
        conf["features"] = merged
    if "business_profile" in p:
        conf["business_profile"] = {**conf["business_profile"], **p["business_profile"]}
    for key in ("active", "default_return_url", "name"):
        if key in p:
            conf[key] = p[key] if p[key] != "" else None
    conf["metadata"] = merge_metadata(conf["metadata"] or {}, p.get("metadata"))
    changes = diff(before, conf)
    if changes:
        conf["updated"] = sb.now()
        sb.save(conf)
        sb.emit("billing_portal.configuration.updated", conf, changes)
    return conf


@route("GET", "/v1/billing_portal/configurations", "billing_portal.ConfigurationListParams")
def configuration_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    items = [
        c
        for c in live(sb, "billing_portal.configuration")
        if ("active" not in p or c["active"] == p["active"])
        and ("is_default" not in p or c["is_default"] == p["is_default"])
    ]
    return paginate(items, p, "/v1/billing_portal/configurations")


def default_configuration(sb: Sandbox) -> dict[str, Any]:
    for conf in live(sb, "billing_portal.configuration"):
        if conf["is_default"]:
            return conf
    return configuration_create(
        sb,
        {
            "features": {
                "payment_method_update": {"enabled": True},
                "subscription_cancel": {"enabled": True},
                "subscription_update": {"enabled": True, "default_allowed_updates": ["price"]},
            }
        },
    )


@route("POST", "/v1/billing_portal/sessions", "billing_portal.SessionCreateParams")
def session_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("customer"):
        raise missing("customer")
    customer = sb.load(p["customer"], "customer", "customer")
    if p.get("configuration"):
        conf = sb.load(p["configuration"], "billing_portal.configuration", "configuration")
    else:
        conf = default_configuration(sb)
    return_url = p.get("return_url") or conf["default_return_url"]
    flow = flow_from(sb, p.get("flow_data"), customer, conf)
    bps = sessions.portal_session(
        now=sb.now_for(customer),
        base_url=sb.base_url,
        customer=customer["id"],
        configuration=conf["id"],
        return_url=return_url,
        locale=p.get("locale"),
        flow=flow,
    )
    sb.save(bps)
    return bps


# the portal page's actions ---------------------------------------------------------------
def switchable_prices(sb: Sandbox, conf: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the active recurring prices the portal offers."""
    products = conf["features"]["subscription_update"].get("products") or []
    allowed: set[str] | None = None
    if products:
        allowed = {pid for prod in products for pid in (prod.get("prices") or [])}
    return [
        pr
        for pr in live(sb, "price")
        if pr["active"] and pr["type"] == "recurring" and (allowed is None or pr["id"] in allowed)
    ]


def quantity_bounds(conf: dict[str, Any], sub: dict[str, Any]) -> tuple[int, int] | None:
    """The quantities the portal lets the customer choose for the subscription's product:
    the configuration allows ``quantity`` updates and lists the product with an enabled
    ``adjustable_quantity``; None otherwise."""
    feature = conf["features"]["subscription_update"]
    if not feature.get("enabled") or "quantity" not in (
        feature.get("default_allowed_updates") or []
    ):
        return None
    product = sub["items"]["data"][0]["price"]["product"]
    for listed in feature.get("products") or []:
        adjustable = listed.get("adjustable_quantity") or {}
        if listed.get("product") == product and adjustable.get("enabled"):
            return int(adjustable.get("minimum") or 0), int(adjustable.get("maximum") or 99)
    return None


def customer_subscriptions(sb: Sandbox, customer_id: str) -> list[dict[str, Any]]:
    return [
        s
        for s in live(sb, "subscription")
        if s["customer"] == customer_id and s["status"] not in lifecycle.ENDED
    ]


def act(sb: Sandbox, bps: dict[str, Any], form: dict[str, str]) -> str:
    """Carry out one portal form action; return a message for the page."""
    customer = sb.load(bps["customer"], "customer")
    conf = sb.load(bps["configuration"], "billing_portal.configuration")
    action = form.get("action", "")
    if action == "update_card":
        token = payments.token_for_number(form.get("card_number", ""))
        pm = payments.create_pm(sb, token, now=sb.now_for(customer), email=customer["email"])
        payments.attach(sb, pm, customer)
        before = payments.snapshot(customer)
        customer["invoice_settings"]["default_payment_method"] = pm["id"]
        sb.save(customer)
        sb.emit("customer.updated", customer, diff(before, customer))
        for other in customer_subscriptions(sb, customer["id"]):
            if other["default_payment_method"] != pm["id"]:
                other_before = payments.snapshot(other)
                other["default_payment_method"] = pm["id"]
                sb.save(other)
                sb.emit("customer.subscription.updated", other, diff(other_before, other))
        return f"Card ending in {pm['card']['last4']} saved."
    found = [
        s for s in customer_subscriptions(sb, customer["id"]) if s["id"] == form.get("subscription")
    ]
    sub = found[0] if found else None
    if sub is None:
        raise StripeError(
            "No such subscription for this customer.", status=404, code="resource_missing"
        )
    now = sb.now_for(sub)
    before = payments.snapshot(sub)
    invoice_now = None
    if action == "cancel":
        # The pinned API version's portal sets only ``cancel_at`` to the period end.
        sub["cancel_at"] = lifecycle.period(sub)[1]
        sub["cancel_at_period_end"] = False
        sub["canceled_at"] = now
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        if form.get("feedback"):
            sub["cancellation_details"]["feedback"] = form["feedback"]
        message = "Your plan will be canceled at the end of the billing period."
    elif action == "resume":
        sub["cancel_at"] = None
        sub["cancel_at_period_end"] = False
        sub["canceled_at"] = None
        sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}
        message = "Your plan was renewed."
    elif action == "switch":
        price_id = form.get("price", "")
        if price_id not in {pr["id"] for pr in switchable_prices(sb, conf)}:
            raise StripeError("That price is not offered here.", param="price")
        behaviour = (
            conf["features"]["subscription_update"].get("proration_behavior") or "create_prorations"
        )
        item = sub["items"]["data"][0]
        invoice_now = switch_items(sb, sub, [{"id": item["id"], "price": price_id}], behaviour, now)
        message = "Your plan was updated."
    elif action == "quantity":
        bounds = quantity_bounds(conf, sub)
        given = form.get("quantity", "").strip()
        if bounds is None:
            raise StripeError("This subscription's quantity cannot be changed here.")
        if not given.isdigit() or not bounds[0] <= int(given) <= bounds[1]:
            raise StripeError(f"Choose between {bounds[0]} and {bounds[1]}.", param="quantity")
        behaviour = (
            conf["features"]["subscription_update"].get("proration_behavior") or "create_prorations"
        )
        item = sub["items"]["data"][0]
        invoice_now = switch_items(
            sb, sub, [{"id": item["id"], "quantity": int(given)}], behaviour, now
        )
        message = "Your plan was updated."
    elif action == "confirm_update":
        # The deep link's one step: the change Masthead asked for, as the session holds it.
        pending = pending_update(bps)
        if pending is None or pending["subscription"] != sub["id"]:
            raise StripeError("There is no update to confirm in this session.", param="action")
        spec = {k: v for k, v in pending["items"][0].items() if v is not None}
        behaviour = (
            conf["features"]["subscription_update"].get("proration_behavior") or "create_prorations"
        )
        invoice_now = switch_items(sb, sub, [spec], behaviour, now)
        bps.setdefault("_x", {})["completed"] = True
        sb.save(bps)
        message = "Your plan was updated."
    else:
        raise StripeError(f"Unknown portal action: {action!r}", param="action")
    sb.save(sub)
    changes = diff(before, sub)
    if changes:
        sb.emit("customer.subscription.updated", sub, changes, created=now)
    if invoice_now is not None:
        from .. import invoicing

        invoicing.finalize(sb, invoice_now, now)
        lifecycle.collect(sb, sub, invoice_now, now)
    return message
