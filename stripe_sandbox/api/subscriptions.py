"""Subscriptions and subscription items."""

from __future__ import annotations

from typing import Any

from .. import discounts, invoicing, lifecycle, payments
from ..app import Sandbox, diff
from ..errors import StripeError, invalid, missing, no_such
from ..routes import route
from .common import created_filter, live, merge_metadata, paginate
from .items import load_price, switch_items

STATUSES = (
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
)


def check_trial_end(sb: Sandbox, value: Any, now: int, param: str) -> int:
    if not isinstance(value, int) or value <= now:
        raise invalid(
            param,
            "Invalid timestamp: must be an integer Unix timestamp in the future.",
            "parameter_invalid_integer",
        )
    return value


@route("POST", "/v1/subscriptions", "SubscriptionCreateParams")
def subscription_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    customer = (
        sb.load(p.get("customer") or None, "customer", "customer") if p.get("customer") else None
    )
    if customer is None:
        raise missing("customer")
    if not p.get("items"):
        raise missing("items")
    items = []
    for i, spec in enumerate(p["items"]):
        price = load_price(sb, spec.get("price") or (spec.get("plan")), f"items[{i}][price]")
        items.append((price, spec.get("quantity", 1)))
    now = sb.now_for(customer)
    if p.get("trial_end") is not None and p.get("trial_period_days") is not None:
        raise StripeError(
            "You may only specify one of these parameters: trial_end, trial_period_days.",
            param="trial_end",
        )
    trial_end = None
    if p.get("trial_end") not in (None, "now"):
        trial_end = check_trial_end(sb, p["trial_end"], now, "trial_end")
    elif p.get("trial_period_days"):
        trial_end = now + p["trial_period_days"] * lifecycle.DAY
    elif p.get("trial_from_plan") and items[0][0]["recurring"].get("trial_period_days"):
        trial_end = now + items[0][0]["recurring"]["trial_period_days"] * lifecycle.DAY
    redemptions = discounts.resolve(
        sb,
        p.get("discounts") or [],
        param="discounts",
        customer_id=customer["id"],
        amount=sum(price["unit_amount"] * qty for price, qty in items),
        currency=items[0][0]["currency"],
        now=now,
    )
    pm = None
    if p.get("default_payment_method"):
        pm = payments.resolve(sb, p["default_payment_method"], customer, "default_payment_method")
    sub = lifecycle.create(
        sb,
        customer,
        items,
        trial_end=trial_end,
        pm=pm or payments.default_pm(sb, None, customer),
        metadata=merge_metadata({}, p.get("metadata")),
        description=p.get("description"),
        payment_behavior=p.get("payment_behavior", "allow_incomplete"),
        off_session=p.get("off_session", True),
        default_payment_method=pm["id"] if pm else None,
        redemptions=redemptions,
    )
    end_behavior = (p.get("trial_settings") or {}).get("end_behavior") or {}
    if end_behavior.get("missing_payment_method"):
        sub["trial_settings"]["end_behavior"]["missing_payment_method"] = end_behavior[
            "missing_payment_method"
        ]
        sb.save(sub)
    if p.get("cancel_at_period_end") or p.get("cancel_at"):
        _apply_cancel_fields(sb, sub, p, now)
        sb.save(sub)
    return sub


@route("GET", "/v1/subscriptions/{id}", "SubscriptionRetrieveParams")
def subscription_retrieve(sb: Sandbox, p: dict[str, Any], sub_id: str) -> dict[str, Any]:
    return sb.load(sub_id, "subscription")


def _apply_cancel_fields(sb: Sandbox, sub: dict[str, Any], p: dict[str, Any], now: int) -> None:
    end = lifecycle.period(sub)[1]
    if "cancel_at_period_end" in p:
        sub["cancel_at_period_end"] = p["cancel_at_period_end"]
        sub["cancel_at"] = end if p["cancel_at_period_end"] else None
    if "cancel_at" in p:
        value = p["cancel_at"]
        if value == "":
            sub["cancel_at"] = None
            sub["cancel_at_period_end"] = False
        elif isinstance(value, str):
            if value not in ("min_period_end", "max_period_end", "max_billed_until"):
                raise invalid("cancel_at", f"Invalid cancel_at: {value}")
            sub["cancel_at"] = end
        else:
            if value <= now:
                raise invalid(
                    "cancel_at",
                    "Invalid timestamp: must be an integer Unix timestamp in the future.",
                    "parameter_invalid_integer",
                )
            sub["cancel_at"] = value
            sub["cancel_at_period_end"] = value == end
    if sub["cancel_at"] and not sub["canceled_at"]:
        sub["canceled_at"] = now
    if not sub["cancel_at"]:
        sub["canceled_at"] = None
        sub["cancel_at_period_end"] = False


@route("POST", "/v1/subscriptions/{id}", "SubscriptionUpdateParams")
def subscription_update(sb: Sandbox, p: dict[str, Any], sub_id: str) -> dict[str, Any]:
    sub = sb.load(sub_id, "subscription")
    now = sb.now_for(sub)
    if sub["status"] in lifecycle.ENDED and set(p) - {"metadata", "cancellation_details", "expand"}:
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata.",
            param=sorted(set(p) - {"metadata", "expand"})[0],
        )
    before = payments.snapshot(sub)
    customer = sb.load(sub["customer"], "customer")
    sub["metadata"] = merge_metadata(sub["metadata"], p.get("metadata"))
    if "description" in p:
        sub["description"] = p["description"] or None
    if "default_payment_method" in p:
        pm = (
            payments.resolve(sb, p["default_payment_method"], customer, "default_payment_method")
            if p["default_payment_method"]
            else None
        )
        sub["default_payment_method"] = pm["id"] if pm else None
    for key in ("comment", "feedback"):
        if key in (p.get("cancellation_details") or {}):
            sub["cancellation_details"][key] = p["cancellation_details"][key] or None
    if "pause_collection" in p:
        pc = p["pause_collection"]
        sub["pause_collection"] = (
            None
            if pc == ""
            else {"behavior": pc.get("behavior"), "resumes_at": pc.get("resumes_at")}
        )
    _apply_cancel_fields(sb, sub, p, now)
    invoice_now = None
    if p.get("items"):
        invoice_now = switch_items(
            sb, sub, p["items"], p.get("proration_behavior", "create_prorations"), now
        )
    end_trial_now = False
    if "trial_end" in p:
        if p["trial_end"] == "now":
            end_trial_now = sub["status"] == "trialing"
        else:
            sub["trial_end"] = check_trial_end(sb, p["trial_end"], now, "trial_end")
            sub["trial_start"] = sub["trial_start"] or now
            sub["status"] = "trialing"
            sub["_x"].pop("trial_will_end_sent", None)
            lifecycle.set_period(sub, lifecycle.period(sub)[0], sub["trial_end"])
            sub["billing_cycle_anchor"] = sub["trial_end"]
    sb.save(sub)
    changes = diff(before, sub)
    if changes:
        sb.emit("customer.subscription.updated", sub, changes, created=now)
    if invoice_now is not None:
        invoicing.finalize(sb, invoice_now, now)
        pm = payments.default_pm(sb, sub, customer)
        result = invoicing.attempt(
            sb, invoice_now, pm, now=now, off_session=p.get("off_session", False)
        )
        lifecycle.after_payment(sb, sub, invoice_now, result, now)
    if end_trial_now:
        # As Stripe does: ending a trial early moves the billing cycle anchor to now, so
        # the first paid period (and every renewal) runs from this moment.
        sub["billing_cycle_anchor"] = now
        lifecycle.start_period(sb, sub, now, from_trial=True)
    return sub


@route("POST", "/v1/subscriptions/{id}/resume", "SubscriptionResumeParams")
def subscription_resume(sb: Sandbox, p: dict[str, Any], sub_id: str) -> dict[str, Any]:
    sub = sb.load(sub_id, "subscription")
    if sub["status"] != "paused":
        raise StripeError("Only a paused subscription can be resumed.", param="id")
    lifecycle.resume(sb, sub, sb.now_for(sub))
    return sub


@route("DELETE", "/v1/subscriptions/{id}", "SubscriptionCancelParams")
def subscription_cancel(sb: Sandbox, p: dict[str, Any], sub_id: str) -> dict[str, Any]:
    sub = sb.load(sub_id, "subscription")
    if sub["status"] in lifecycle.ENDED:
        raise StripeError(
            f"No such subscription: '{sub_id}'", status=404, code="resource_missing", param="id"
        )
    details = p.get("cancellation_details") or {}
    for key in ("comment", "feedback"):
        if details.get(key):
            sub["cancellation_details"][key] = details[key]
    return lifecycle.cancel_now(sb, sub, reason="cancellation_requested")


@route("GET", "/v1/subscriptions", "SubscriptionListParams")
def subscription_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    status = p.get("status")
    if status is not None and status not in STATUSES:
        raise invalid("status", f"Invalid status: must be one of {', '.join(STATUSES)}")
    created = created_filter(p.get("created"))

    def status_ok(s: str) -> bool:
        if status == "all":
            return True
        if status == "ended":
            return s in lifecycle.ENDED
        if status is None:
            return s != "canceled"
        return s == status

    items = [
        s
        for s in live(sb, "subscription")
        if status_ok(s["status"])
        and created(s)
        and ("customer" not in p or s["customer"] == p["customer"])
        and ("test_clock" not in p or s["test_clock"] == p["test_clock"])
        and ("price" not in p or any(it["price"]["id"] == p["price"] for it in s["items"]["data"]))
    ]
    return paginate(items, p, "/v1/subscriptions")


@route("GET", "/v1/subscription_items", "SubscriptionItemListParams")
def subscription_item_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    sub = sb.load(p.get("subscription"), "subscription", "subscription")
    return paginate(
        list(sub["items"]["data"]), p, f"/v1/subscription_items?subscription={sub['id']}"
    )


@route("GET", "/v1/subscription_items/{id}", "SubscriptionItemRetrieveParams")
def subscription_item_retrieve(sb: Sandbox, p: dict[str, Any], si_id: str) -> dict[str, Any]:
    for sub in live(sb, "subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == si_id:
                return item
    raise no_such("subscription_item", si_id)
