"""Redeeming coupons and promotion codes into discounts, and discounting invoices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import StripeError, no_such
from .objects import discounts as objects

if TYPE_CHECKING:
    from .app import Sandbox

Redemption = tuple[dict[str, Any], dict[str, Any] | None]  # (coupon, promotion code)


def coupon_error(coupon: dict[str, Any], now: int) -> str | None:
    """Return why a coupon cannot be redeemed now, or None."""
    used_up = coupon["max_redemptions"] and coupon["times_redeemed"] >= coupon["max_redemptions"]
    late = coupon["redeem_by"] and now > coupon["redeem_by"]
    if coupon.get("_deleted") or not coupon["valid"] or used_up or late:
        return f"Coupon expired: {coupon['id']}"
    return None


def promotion_error(
    sb: Sandbox,
    promo: dict[str, Any],
    *,
    customer_id: str | None,
    amount: int,
    currency: str,
    now: int,
) -> str | None:
    """Return why a promotion code cannot be redeemed by this customer for this amount."""
    from .invoicing import money

    restrictions = promo["restrictions"]
    minimum = restrictions["minimum_amount"]
    if not promo["active"]:
        return "This promotion code is inactive."
    if promo["expires_at"] and now >= promo["expires_at"]:
        return "This promotion code has expired."
    if promo["max_redemptions"] and promo["times_redeemed"] >= promo["max_redemptions"]:
        return "This promotion code has been redeemed the maximum number of times."
    if promo["customer"] and promo["customer"] != customer_id:
        return "This promotion code cannot be redeemed by this customer."
    if minimum and (amount < minimum or currency != restrictions["minimum_amount_currency"]):
        minimum_currency = restrictions["minimum_amount_currency"] or currency
        return f"This code requires a minimum order of {money(minimum, minimum_currency)}."
    if restrictions["first_time_transaction"] and customer_id and _has_paid(sb, customer_id):
        return "This code is only valid for first-time customers."
    coupon = sb.store.get(promo["promotion"]["coupon"])
    if coupon is None:
        return "This promotion code is inactive."
    return coupon_error(coupon, now) or _currency_error(coupon, currency)


def _currency_error(coupon: dict[str, Any], currency: str) -> str | None:
    if coupon["amount_off"] is not None and coupon["currency"] != currency:
        return f"The coupon {coupon['id']} is in {coupon['currency']}, not {currency}."
    return None


def _has_paid(sb: Sandbox, customer_id: str) -> bool:
    """Whether the customer has paid anything before (an invoice, or a one-time payment)."""
    return any(
        i["customer"] == customer_id and i["amount_paid"] > 0 for i in sb.store.all("invoice")
    ) or any(
        c["customer"] == customer_id and c["status"] == "succeeded" for c in sb.store.all("charge")
    )


def find_code(sb: Sandbox, code: str) -> dict[str, Any] | None:
    """Return the active promotion code a customer typed (codes are case-insensitive)."""
    wanted = code.strip().upper()
    matches = [p for p in sb.store.all("promotion_code") if p["code"].upper() == wanted]
    return next((p for p in matches if p["active"]), matches[0] if matches else None)


def resolve(
    sb: Sandbox,
    specs: list[dict[str, Any]],
    *,
    param: str,
    customer_id: str | None,
    amount: int,
    currency: str,
    now: int,
) -> list[Redemption]:
    """Return the (coupon, promotion code) pairs ``discounts[]`` names, refusing bad ones."""
    out: list[Redemption] = []
    for i, spec in enumerate(specs):
        if spec.get("coupon") and spec.get("promotion_code"):
            raise StripeError(
                "You may only specify one of these parameters: coupon, promotion_code.",
                param=f"{param}[{i}][coupon]",
            )
        if spec.get("promotion_code"):
            where = f"{param}[{i}][promotion_code]"
            promo = sb.load(spec["promotion_code"], "promotion_code", where)
            error = promotion_error(
                sb, promo, customer_id=customer_id, amount=amount, currency=currency, now=now
            )
            coupon = sb.store.get(promo["promotion"]["coupon"]) or {}
        elif spec.get("coupon"):
            where = f"{param}[{i}][coupon]"
            coupon = load_coupon(sb, spec["coupon"], where)
            promo = None
            error = coupon_error(coupon, now) or _currency_error(coupon, currency)
        else:
            raise StripeError(
                "Each discount needs a coupon or a promotion_code.", param=f"{param}[{i}]"
            )
        if error:
            raise StripeError(error, param=where)
        out.append((coupon, promo))
    return out


def load_coupon(sb: Sandbox, coupon_id: Any, param: str = "id") -> dict[str, Any]:
    found = sb.store.get(coupon_id) if isinstance(coupon_id, str) else None
    if found is None or found.get("object") != "coupon" or found.get("_deleted"):
        raise no_such("coupon", str(coupon_id), param)
    return found


def amount_off(coupon: dict[str, Any], amount: int) -> int:
    """Return what a coupon takes off ``amount``."""
    if amount <= 0:
        return 0
    if coupon["percent_off"] is not None:
        return min(amount, round(amount * coupon["percent_off"] / 100))
    return min(amount, coupon["amount_off"] or 0)


def attach(
    sb: Sandbox,
    sub: dict[str, Any],
    redemption: Redemption,
    *,
    now: int,
    checkout_session: str | None = None,
) -> dict[str, Any]:
    """Redeem a coupon (or promotion code) into a discount on a subscription."""
    from .lifecycle import add_months

    coupon, promo = redemption
    end = None
    if coupon["duration"] == "repeating" and coupon["duration_in_months"]:
        end = add_months(now, coupon["duration_in_months"])
    di = objects.discount(
        now=now,
        end=end,
        coupon_id=coupon["id"],
        promotion_code=promo["id"] if promo else None,
        customer=sub["customer"],
        subscription=sub["id"],
        checkout_session=checkout_session,
    )
    sb.save(di)
    sub["discounts"] = [*sub["discounts"], di["id"]]
    redeem(sb, coupon, promo)
    sb.emit("customer.discount.created", di, created=now)
    return di


def redeem(sb: Sandbox, coupon: dict[str, Any], promo: dict[str, Any] | None) -> None:
    """Count one redemption of a coupon (and its promotion code); a coupon used up is no
    longer valid."""
    coupon["times_redeemed"] += 1
    if coupon["max_redemptions"] and coupon["times_redeemed"] >= coupon["max_redemptions"]:
        coupon["valid"] = False
    sb.save(coupon)
    if promo is not None:
        promo["times_redeemed"] += 1
        sb.save(promo)


def apply_to_invoice(sb: Sandbox, sub: dict[str, Any], inv: dict[str, Any], now: int) -> int:
    """Discount the positive lines of a new invoice by the subscription's discounts; return
    the amount taken off. A discount that has ended, or a ``once`` one just used, is removed."""
    total = 0
    for di_id in list(sub["discounts"]):
        di = sb.store.get(di_id)
        if di is None:
            continue
        if di["end"] and now >= di["end"]:
            _remove(sb, sub, di, now)
            continue
        coupon = sb.store.get(di["source"]["coupon"])
        lines = [li for li in inv["lines"]["data"] if li["amount"] > 0]
        base = sum(li["amount"] for li in lines) - total
        if coupon is None or base <= 0 or _currency_error(coupon, inv["currency"]):
            continue
        left = amount_off(coupon, base)
        for li in lines:
            share = min(left, li["amount"])
            if coupon["percent_off"] is not None:
                share = min(left, round(li["amount"] * coupon["percent_off"] / 100))
            if share:
                li["discount_amounts"].append({"amount": share, "discount": di_id})
                left -= share
        taken = amount_off(coupon, base) - left
        inv["discounts"].append(di_id)
        inv["total_discount_amounts"].append({"amount": taken, "discount": di_id})
        total += taken
        if coupon["duration"] == "once":
            _remove(sb, sub, di, now)
    return total


def _remove(sb: Sandbox, sub: dict[str, Any], di: dict[str, Any], now: int) -> None:
    sub["discounts"] = [d for d in sub["discounts"] if d != di["id"]]
    sb.emit("customer.discount.deleted", di, created=now)
