"""Checkout sessions in subscription and payment mode, and completing one from the hosted
page."""

from __future__ import annotations

from typing import Any

from .. import discounts, lifecycle, one_time, payments
from ..app import Sandbox
from ..errors import StripeError, invalid, missing
from ..objects import core, sessions
from ..routes import route
from .common import created_filter, live, merge_metadata, paginate
from .items import load_price

MIN_TRIAL_END_AHEAD = 48 * 3600
SESSION_LIFETIME = 24 * 3600


@route("POST", "/v1/checkout/sessions", "checkout.SessionCreateParams")
def session_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    mode = p.get("mode")
    if not mode:
        raise missing("mode")
    if mode not in ("subscription", "payment"):
        raise invalid(
            "mode", "The sandbox supports Checkout only in `mode=subscription` or `mode=payment`."
        )
    one_time.check_mode_params(p, mode)
    if p.get("customer") and p.get("customer_email"):
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    customer = sb.load(p["customer"], "customer", "customer") if p.get("customer") else None
    if not p.get("line_items"):
        raise missing("line_items")
    lines = []
    for i, li in enumerate(p["line_items"]):
        if not li.get("price"):
            raise missing(f"line_items[{i}][price]")
        price = load_price(sb, li["price"], f"line_items[{i}][price]", recurring=False)
        one_time.check_price(price, mode, f"line_items[{i}][price]")
        quantity = li.get("quantity", 1)
        if quantity < 1:
            raise invalid(f"line_items[{i}][quantity]", "This value must be greater than 0.")
        lines.append({"price": price["id"], "quantity": quantity})
    prices = [sb.load(li["price"], "price") for li in lines]
    if mode == "subscription" and not any(pr["type"] == "recurring" for pr in prices):
        raise invalid(
            "line_items",
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
        )
    if len({pr["currency"] for pr in prices}) > 1:
        raise invalid("line_items", "All prices must use the same currency.")
    now = sb.now_for(customer)
    data = p.get("subscription_data") or {}
    if data.get("trial_end") is not None and data.get("trial_period_days") is not None:
        raise StripeError(
            "You may only specify one of these parameters: "
            "subscription_data[trial_end], subscription_data[trial_period_days].",
            param="subscription_data[trial_end]",
        )
    if data.get("trial_end") is not None and data["trial_end"] < now + MIN_TRIAL_END_AHEAD:
        raise invalid(
            "subscription_data[trial_end]",
            "`subscription_data[trial_end]` must be at least 48 hours in the future.",
        )
    if data.get("trial_period_days") is not None and data["trial_period_days"] < 1:
        raise invalid(
            "subscription_data[trial_period_days]",
            "`subscription_data[trial_period_days]` must be at least 1.",
        )
    amount = sum(pr["unit_amount"] * li["quantity"] for pr, li in zip(prices, lines, strict=True))
    if p.get("allow_promotion_codes") and p.get("discounts"):
        raise StripeError(
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            param="discounts",
        )
    if len(p.get("discounts") or []) > 1:
        raise invalid("discounts", "You may only specify one discount per Checkout Session.")
    redemptions = discounts.resolve(
        sb,
        p.get("discounts") or [],
        param="discounts",
        customer_id=customer["id"] if customer else None,
        amount=amount,
        currency=prices[0]["currency"],
        now=now,
    )
    one_time.check_first_time(p, mode, redemptions)
    expires_at = p.get("expires_at") or now + SESSION_LIFETIME
    cs = sessions.checkout_session(
        now=now,
        base_url=sb.base_url,
        customer=customer["id"] if customer else None,
        customer_email=p.get("customer_email") or None,
        client_reference_id=p.get("client_reference_id") or None,
        metadata=merge_metadata({}, p.get("metadata")),
        success_url=p.get("success_url"),
        cancel_url=p.get("cancel_url"),
        allow_promotion_codes=p.get("allow_promotion_codes"),
        currency=prices[0]["currency"],
        amount=amount,
        expires_at=expires_at,
        locale=p.get("locale"),
    )
    if mode == "payment":
        one_time.shape_session(cs, p)
    if data.get("trial_end") or data.get("trial_period_days"):
        cs["amount_total"] = cs["amount_subtotal"] = 0
        cs["total_details"]["amount_discount"] = 0
    cs["_x"] = {
        "line_items": lines,
        "subscription_data": data,
        "payment_intent_data": p.get("payment_intent_data") or {},
    }
    _set_discounts(cs, redemptions)
    cs["discounts"] = [
        {"coupon": d.get("coupon"), "promotion_code": d.get("promotion_code")}
        for d in p.get("discounts") or []
    ]
    sb.save(cs)
    return cs


def _set_discounts(cs: dict[str, Any], redemptions: list[discounts.Redemption]) -> None:
    """Keep what the session redeems on completion and show its effect on today's total."""
    cs["_x"]["redemptions"] = [[c["id"], pc["id"] if pc else None] for c, pc in redemptions]
    off = 0
    for coupon, _ in redemptions:
        off += discounts.amount_off(coupon, cs["amount_subtotal"] - off)
    cs["amount_total"] = cs["amount_subtotal"] - off
    cs["total_details"]["amount_discount"] = off


def apply_code(sb: Sandbox, cs: dict[str, Any], code: str) -> None:
    """Apply a promotion code the customer typed on the hosted page."""
    if cs["status"] != "open" or not cs["allow_promotion_codes"]:
        raise StripeError("This checkout session does not accept promotion codes.")
    promo = discounts.find_code(sb, code) if code.strip() else None
    if promo is None:
        raise StripeError("This code is invalid.", param="promotion_code")
    full = sum(
        sb.load(li["price"], "price")["unit_amount"] * li["quantity"]
        for li in cs["_x"]["line_items"]
    )
    error = discounts.promotion_error(
        sb,
        promo,
        customer_id=cs["customer"],
        amount=full,
        currency=cs["currency"],
        now=sb.now_for(cs),
    )
    if error:
        raise StripeError(error, param="promotion_code")
    coupon = discounts.load_coupon(sb, promo["promotion"]["coupon"])
    _set_discounts(cs, [(coupon, promo)])
    cs["discounts"] = [{"coupon": None, "promotion_code": promo["id"]}]
    sb.save(cs)


def _redemptions(sb: Sandbox, cs: dict[str, Any], customer: dict[str, Any]) -> list[Any]:
    specs = [
        {"promotion_code": pc} if pc else {"coupon": c} for c, pc in cs["_x"].get("redemptions", [])
    ]
    return discounts.resolve(
        sb,
        specs,
        param="discounts",
        customer_id=customer["id"],
        amount=cs["amount_subtotal"],
        currency=cs["currency"],
        now=sb.now_for(customer),
    )


def _expire_due(sb: Sandbox, cs: dict[str, Any]) -> dict[str, Any]:
    if cs["status"] == "open" and sb.now_for(cs) >= cs["expires_at"]:
        _expire(sb, cs)
    return cs


def _expire(sb: Sandbox, cs: dict[str, Any]) -> None:
    cs["status"] = "expired"
    cs["url"] = None
    sb.save(cs)
    sb.emit("checkout.session.expired", cs)


@route("GET", "/v1/checkout/sessions/{id}", "checkout.SessionRetrieveParams")
def session_retrieve(sb: Sandbox, p: dict[str, Any], cs_id: str) -> dict[str, Any]:
    return _expire_due(sb, sb.load(cs_id, "checkout.session"))


@route("POST", "/v1/checkout/sessions/{id}/expire", "checkout.SessionExpireParams")
def session_expire(sb: Sandbox, p: dict[str, Any], cs_id: str) -> dict[str, Any]:
    cs = sb.load(cs_id, "checkout.session")
    if cs["status"] != "open":
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired. '
            f'This Checkout Session has a status of "{cs["status"]}".'
        )
    _expire(sb, cs)
    return cs


@route("GET", "/v1/checkout/sessions", "checkout.SessionListParams")
def session_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    items = [
        _expire_due(sb, cs)
        for cs in live(sb, "checkout.session")
        if ("customer" not in p or cs["customer"] == p["customer"])
        and ("subscription" not in p or cs["subscription"] == p["subscription"])
        and ("payment_intent" not in p or cs["payment_intent"] == p["payment_intent"])
        and created(cs)
    ]
    items = [cs for cs in items if "status" not in p or cs["status"] == p["status"]]
    return paginate(items, p, "/v1/checkout/sessions")


@route("GET", "/v1/checkout/sessions/{id}/line_items", "checkout.SessionLineItemListParams")
def session_line_items(sb: Sandbox, p: dict[str, Any], cs_id: str) -> dict[str, Any]:
    cs = sb.load(cs_id, "checkout.session")
    data = []
    for n, li in enumerate(cs["_x"]["line_items"]):
        price = sb.load(li["price"], "price")
        amount = price["unit_amount"] * li["quantity"]
        prod = sb.store.get(price["product"]) or {}
        data.append(
            {
                "id": f"li_{cs['id'][8:30]}{n}",
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price["currency"],
                "description": prod.get("name"),
                "price": sb.public(price),
                "quantity": li["quantity"],
            }
        )
    return paginate(data, p, f"/v1/checkout/sessions/{cs_id}/line_items")


def complete(
    sb: Sandbox,
    cs: dict[str, Any],
    *,
    card_number: str,
    email: str | None,
) -> dict[str, Any]:
    """Pay an open session with a card number from the hosted page; raise on a decline."""
    _expire_due(sb, cs)
    if cs["status"] != "open":
        raise StripeError("This Checkout Session is no longer active.")
    if cs["mode"] == "payment":
        return one_time.complete(
            sb, cs, method=one_time.method_for(card_number), email=email, redeem=_redemptions
        )
    token = payments.token_for_number(card_number)
    data = cs["_x"]["subscription_data"]
    behaviour = core.TEST_CARDS[token][2]
    trialing = bool(data.get("trial_end") or data.get("trial_period_days"))
    if behaviour == "declined" or (behaviour == "fail_later" and not trialing):
        raise StripeError(
            "Your card was declined.",
            status=402,
            type="card_error",
            code="card_declined",
            decline_code="generic_decline",
        )
    if cs["customer"]:
        customer = sb.load(cs["customer"], "customer")
    else:
        customer = core.customer(now=sb.now(), email=cs["customer_email"] or email)
        sb.save(customer)
        sb.emit("customer.created", customer)
    now = sb.now_for(customer)
    pm = payments.create_pm(sb, token, now=now, email=customer["email"])
    payments.attach(sb, pm, customer)
    items = [(sb.load(li["price"], "price"), li["quantity"]) for li in cs["_x"]["line_items"]]
    trial_end = data.get("trial_end")
    if data.get("trial_period_days"):
        trial_end = now + data["trial_period_days"] * lifecycle.DAY
    redemptions = _redemptions(sb, cs, customer)
    sub = lifecycle.create(
        sb,
        customer,
        items,
        trial_end=trial_end,
        redemptions=redemptions,
        checkout_session=cs["id"],
        pm=pm,
        metadata=merge_metadata({}, data.get("metadata")),
        description=data.get("description"),
        payment_behavior="allow_incomplete",
        off_session=False,
        default_payment_method=pm["id"],
    )
    inv = sb.load(sub["latest_invoice"], "invoice")
    cs.update(
        status="complete",
        customer=customer["id"],
        subscription=sub["id"],
        invoice=inv["id"],
        payment_status="paid" if inv["amount_paid"] else "no_payment_required",
    )
    cs["customer_details"] = {
        "address": None,
        "business_name": None,
        "email": customer["email"],
        "individual_name": None,
        "name": customer["name"],
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
    cs["url"] = None
    sb.save(cs)
    sb.emit("checkout.session.completed", cs, created=now)
    return cs
