"""Coupons and promotion codes."""

from __future__ import annotations

from typing import Any

from .. import discounts, payments
from ..app import Sandbox, diff
from ..errors import StripeError, invalid, missing
from ..objects import core
from ..objects import discounts as objects
from ..routes import route
from .common import created_filter, live, merge_metadata, paginate


@route("POST", "/v1/coupons", "CouponCreateParams")
def coupon_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    now = sb.now()
    percent, amount = p.get("percent_off"), p.get("amount_off")
    if percent is None and amount is None:
        raise StripeError("You must provide one of `amount_off` or `percent_off`.")
    if percent is not None and amount is not None:
        raise StripeError(
            "You may only specify one of these parameters: amount_off, percent_off.",
            param="amount_off",
        )
    if percent is not None and not 0 < percent <= 100:
        raise invalid("percent_off", "Invalid percent_off: must be between 0 and 100.")
    if amount is not None:
        if amount <= 0:
            raise invalid("amount_off", "Invalid positive integer", "parameter_invalid_integer")
        if not p.get("currency"):
            raise missing("currency")
    duration = p.get("duration") or "once"
    if duration not in ("once", "repeating", "forever"):
        raise invalid("duration", "Invalid duration: must be one of forever, once, or repeating")
    months = p.get("duration_in_months")
    if duration == "repeating" and not months:
        raise missing("duration_in_months")
    if months is not None and duration != "repeating":
        raise invalid(
            "duration_in_months",
            "You may only specify duration_in_months when duration is `repeating`.",
        )
    if p.get("redeem_by") is not None and p["redeem_by"] <= now:
        raise invalid("redeem_by", "Invalid timestamp: must be in the future.")
    if p.get("id") and sb.store.get(p["id"]) is not None:
        raise StripeError("Coupon already exists.", code="resource_already_exists", param="id")
    coupon = objects.coupon(
        now=now,
        coupon_id=p.get("id") or None,
        percent_off=percent,
        amount_off=amount,
        currency=p["currency"].lower() if amount is not None else None,
        duration=duration,
        duration_in_months=months,
        max_redemptions=p.get("max_redemptions"),
        redeem_by=p.get("redeem_by"),
        name=p.get("name") or None,
        metadata=merge_metadata({}, p.get("metadata")),
    )
    sb.save(coupon)
    sb.emit("coupon.created", coupon)
    return coupon


@route("GET", "/v1/coupons/{id}", "CouponRetrieveParams")
def coupon_retrieve(sb: Sandbox, p: dict[str, Any], coupon_id: str) -> dict[str, Any]:
    return discounts.load_coupon(sb, coupon_id)


@route("POST", "/v1/coupons/{id}", "CouponUpdateParams")
def coupon_update(sb: Sandbox, p: dict[str, Any], coupon_id: str) -> dict[str, Any]:
    coupon = discounts.load_coupon(sb, coupon_id)
    before = payments.snapshot(coupon)
    if "name" in p:
        coupon["name"] = p["name"] or None
    coupon["metadata"] = merge_metadata(coupon["metadata"], p.get("metadata"))
    changes = diff(before, coupon)
    sb.save(coupon)
    if changes:
        sb.emit("coupon.updated", coupon, changes)
    return coupon


@route("DELETE", "/v1/coupons/{id}", "CouponDeleteParams")
def coupon_delete(sb: Sandbox, p: dict[str, Any], coupon_id: str) -> dict[str, Any]:
    """Delete a coupon: no new redemptions; discounts already made keep applying."""
    coupon = discounts.load_coupon(sb, coupon_id)
    coupon["_deleted"] = True
    sb.save(coupon)
    sb.emit("coupon.deleted", coupon)
    return core.deleted(coupon)


@route("GET", "/v1/coupons", "CouponListParams")
def coupon_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    return paginate([c for c in live(sb, "coupon") if created(c)], p, "/v1/coupons")


@route("POST", "/v1/promotion_codes", "PromotionCodeCreateParams")
def promotion_code_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    promotion = p.get("promotion") or {}
    if not promotion.get("coupon"):
        raise missing("promotion[coupon]")
    coupon = discounts.load_coupon(sb, promotion["coupon"], "promotion[coupon]")
    code = p.get("code") or None
    if code is not None:
        taken = discounts.find_code(sb, code)
        if taken is not None and taken["active"]:
            raise StripeError(
                f"An active promotion code with `code: {code}` already exists.",
                code="resource_already_exists",
                param="code",
            )
    customer = p.get("customer") or None
    if customer:
        sb.load(customer, "customer", "customer")
    restrictions = dict(p.get("restrictions") or {})
    if restrictions.get("minimum_amount") and not restrictions.get("minimum_amount_currency"):
        raise missing("restrictions[minimum_amount_currency]")
    if restrictions.get("minimum_amount_currency"):
        restrictions["minimum_amount_currency"] = restrictions["minimum_amount_currency"].lower()
    promo = objects.promotion_code(
        now=sb.now(),
        coupon_id=coupon["id"],
        code=code,
        active=p.get("active", True),
        customer=customer,
        expires_at=p.get("expires_at"),
        max_redemptions=p.get("max_redemptions"),
        restrictions=restrictions,
        metadata=merge_metadata({}, p.get("metadata")),
    )
    sb.save(promo)
    sb.emit("promotion_code.created", promo)
    return promo


@route("GET", "/v1/promotion_codes/{id}", "PromotionCodeRetrieveParams")
def promotion_code_retrieve(sb: Sandbox, p: dict[str, Any], promo_id: str) -> dict[str, Any]:
    return sb.load(promo_id, "promotion_code")


@route("POST", "/v1/promotion_codes/{id}", "PromotionCodeUpdateParams")
def promotion_code_update(sb: Sandbox, p: dict[str, Any], promo_id: str) -> dict[str, Any]:
    promo = sb.load(promo_id, "promotion_code")
    before = payments.snapshot(promo)
    if "active" in p:
        if p["active"] and not promo["active"]:
            taken = discounts.find_code(sb, promo["code"])
            if taken is not None and taken["active"]:
                raise StripeError(
                    f"An active promotion code with `code: {promo['code']}` already exists.",
                    code="resource_already_exists",
                    param="active",
                )
        promo["active"] = p["active"]
    promo["metadata"] = merge_metadata(promo["metadata"], p.get("metadata"))
    changes = diff(before, promo)
    sb.save(promo)
    if changes:
        sb.emit("promotion_code.updated", promo, changes)
    return promo


@route("GET", "/v1/promotion_codes", "PromotionCodeListParams")
def promotion_code_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    items = [
        pc
        for pc in live(sb, "promotion_code")
        if ("active" not in p or pc["active"] == p["active"])
        and ("code" not in p or pc["code"].upper() == str(p["code"]).upper())
        and ("coupon" not in p or pc["promotion"]["coupon"] == p["coupon"])
        and ("customer" not in p or pc["customer"] == p["customer"])
        and created(pc)
    ]
    return paginate(items, p, "/v1/promotion_codes")
