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
        line = {"price": price["id"], "quantity": quantity}
        if li.get("adjustable_quantity") is not None:
            line["adjustable_quantity"] = _adjustable(li["adjustable_quantity"], line, i)
        lines.append(line)
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


MAX_ADJUSTABLE = 999999


def _adjustable(given: dict[str, Any], line: dict[str, Any], i: int) -> dict[str, Any]:
    """Check ``line_items[i][adjustable_quantity]`` as Stripe does: ``enabled`` required,
    0 <= minimum <= quantity <= maximum <= 999999 (defaults 0 and 99)."""
    base = f"line_items[{i}][adjustable_quantity]"
    if "enabled" not in given:
        raise missing(f"{base}[enabled]")
    low, high = given.get("minimum", 0), given.get("maximum", 99)
    if low < 0:
        raise invalid(f"{base}[minimum]", "The minimum must be greater than or equal to 0.")
    if high > MAX_ADJUSTABLE or high < 1:
        raise invalid(f"{base}[maximum]", "The maximum must be between 1 and 999999.")
    if low > high:
        raise invalid(f"{base}[minimum]", "The minimum must be less than or equal to the maximum.")
    if given["enabled"] and not low <= line["quantity"] <= high:
        raise invalid(
            f"line_items[{i}][quantity]",
            f"The quantity must be between the adjustable minimum ({low}) and maximum ({high}).",
        )
    return {"enabled": bool(given["enabled"]), "minimum": low, "maximum": high}


def quantity_set(sb: Sandbox, cs: dict[str, Any], index: int, quantity: int) -> None:
    """Change an adjustable line's quantity from the hosted page, within its bounds."""
    if cs["status"] != "open":
        raise StripeError("This Checkout Session is no longer active.")
    line = cs["_x"]["line_items"][index]
    adjustable = line.get("adjustable_quantity") or {}
    if not adjustable.get("enabled"):
        raise StripeError("This item's quantity cannot be changed.", param="quantity")
    if not adjustable["minimum"] <= quantity <= adjustable["maximum"]:
        raise StripeError(
            f"Choose between {adjustable['minimum']} and {adjustable['maximum']}.",
            param="quantity",
        )
    line["quantity"] = quantity
    amount = sum(
        sb.load(li["price"], "price")["unit_amount"] * li["quantity"]
        for li in cs["_x"]["line_items"]
    )
    cs["amount_subtotal"] = cs["amount_total"] = amount
    if cs["_x"]["subscription_data"].get("trial_end") or cs["_x"]["subscription_data"].get(
        "trial_period_days"
    ):
        cs["amount_total"] = cs["amount_subtotal"] = 0
    cs["total_details"]["amount_discount"] = 0
    _set_discounts(cs, _redeemed(sb, cs))
    sb.save(cs)


def _redeemed(sb: Sandbox, cs: dict[str, Any]) -> list[discounts.Redemption]:
    out = []
    for coupon_id, promo_id in cs["_x"].get("redemptions", []):
        promo = sb.store.get(promo_id) if promo_id else None
        out.append((discounts.load_coupon(sb, coupon_id), promo))
    return out


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
