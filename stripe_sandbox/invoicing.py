"""Invoices, their lines and payment attempts on payment intents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import payments
from .app import diff
from .objects import billing
from .objects import money as money_objects

if TYPE_CHECKING:
    from .app import Sandbox

TIMES = "\N{MULTIPLICATION SIGN}"
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def money(amount: int, currency: str) -> str:
    """Return ``$9.00`` for 900 usd."""
    symbol = SYMBOLS.get(currency, currency.upper() + " ")
    return f"{symbol}{amount / 100:,.2f}"


def day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y")


def product_name(sb: Sandbox, price: dict[str, Any]) -> str:
    prod = sb.store.get(price["product"])
    return prod["name"] if prod else price["product"]


def price_label(sb: Sandbox, price: dict[str, Any]) -> str:
    rec = price.get("recurring") or {}
    if not rec:
        return money(price["unit_amount"], price["currency"])
    every = rec.get("interval", "")
    if rec.get("interval_count", 1) != 1:
        every = f"{rec['interval_count']} {every}s"
    return f"{money(price['unit_amount'], price['currency'])} / {every}"


def new_invoice(
    sb: Sandbox,
    sub: dict[str, Any],
    *,
    billing_reason: str,
    now: int,
    period_start: int,
    period_end: int,
    lines: list[dict[str, Any]],
    announce: bool = True,
) -> dict[str, Any]:
    """Create a draft invoice for ``sub`` with line specs ``{item, amount, description, ...}``."""
    customer = sb.load(sub["customer"], "customer")
    inv = billing.invoice(
        now=now,
        customer=customer,
        sub=sub,
        billing_reason=billing_reason,
        period_start=period_start,
        period_end=period_end,
    )
    for spec in lines:
        inv["lines"]["data"].append(
            billing.line_item(
                invoice_id=inv["id"],
                sub=sub,
                item=spec["item"],
                amount=spec["amount"],
                description=spec["description"],
                period_start=spec["start"],
                period_end=spec["end"],
                proration=spec.get("proration", False),
                quantity=spec.get("quantity", spec["item"]["quantity"]),
            )
        )
    from .discounts import apply_to_invoice

    subtotal = sum(li["amount"] for li in inv["lines"]["data"])
    total = subtotal - apply_to_invoice(sb, sub, inv, now)
    inv["lines"]["total_count"] = len(inv["lines"]["data"])
    inv["subtotal"] = inv["subtotal_excluding_tax"] = subtotal
    inv["total"] = inv["total_excluding_tax"] = total
    due = max(total, 0)
    inv["amount_due"] = inv["amount_remaining"] = due
    if total < 0:
        inv["ending_balance"] = total
    inv["default_payment_method"] = None
    sb.save(inv)
    if announce:
        sb.emit("invoice.created", inv, created=now)
    return inv


def finalize(sb: Sandbox, inv: dict[str, Any], now: int) -> None:
    """Move a draft invoice to ``open`` (or straight to ``paid`` when nothing is due)."""
    customer = sb.load(inv["customer"], "customer")
    inv["number"] = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
    customer["next_invoice_sequence"] += 1
    sb.save(customer)
    inv["status"] = "open"
    inv["effective_at"] = now
    inv["status_transitions"]["finalized_at"] = now
    inv["hosted_invoice_url"] = f"{sb.base_url}/i/{inv['id']}"
    sb.save(inv)
    sb.emit("invoice.finalized", inv, created=now)
    if inv["amount_due"] == 0:
        _mark_paid(sb, inv, now)


def _mark_paid(sb: Sandbox, inv: dict[str, Any], now: int) -> None:
    inv["status"] = "paid"
    inv["amount_paid"] = inv["amount_due"]
    inv["amount_remaining"] = 0
    inv["next_payment_attempt"] = None
    inv["status_transitions"]["paid_at"] = now
    inv["webhooks_delivered_at"] = now
    sb.save(inv)
    sb.emit("invoice.paid", inv, created=now)
    sb.emit("invoice.payment_succeeded", inv, created=now)


def _payment_intent(
    sb: Sandbox,
    inv: dict[str, Any],
    pm: dict[str, Any] | None,
    now: int,
) -> dict[str, Any]:
    pi_id = inv["_x"].get("pi")
    if pi_id:
        pi = sb.load(pi_id, "payment_intent")
        pi["payment_method"] = pm["id"] if pm else None
        return pi
    reason = (
        "Subscription creation"
        if inv["billing_reason"] == "subscription_create"
        else "Subscription update"
    )
    pi = billing.payment_intent(
        now=now,
        amount=inv["amount_due"],
        currency=inv["currency"],
        customer=inv["customer"],
        payment_method=pm["id"] if pm else None,
        description=reason,
    )
    sb.save(pi)
    sb.emit("payment_intent.created", pi, created=now)
    inpay = billing.invoice_payment(now=now, inv=inv, pi=pi)
    sb.save(inpay)
    inv["_x"]["pi"] = pi["id"]
    inv["_x"]["inpay"] = inpay["id"]
    return pi


def attempt(
    sb: Sandbox, inv: dict[str, Any], pm: dict[str, Any] | None, *, now: int, off_session: bool
) -> str:
    """Try to collect an open invoice; return succeeded, declined, requires_action or
    no_payment_method, with the events Stripe sends for each."""
    if inv["status"] == "paid":
        return "succeeded"
    if inv["amount_due"] == 0:
        _mark_paid(sb, inv, now)
        return "succeeded"
    result = payments.outcome(pm, off_session=off_session)
    pi = _payment_intent(sb, inv, pm, now)
    inv["attempted"] = True
    inv["attempt_count"] += 1
    if result == "succeeded":
        assert pm is not None
        succeed(sb, inv, pi, pm, now)
        return result
    customer = sb.load(inv["customer"], "customer")
    customer["delinquent"] = True
    sb.save(customer)
    if result == "requires_action":
        pi.update(
            status="requires_action",
            next_action={
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect"},
            },
            last_payment_error=None,
        )
        sb.save(pi)
        sb.save(inv)
        sb.emit("payment_intent.requires_action", pi, created=now)
        sb.emit("invoice.payment_action_required", inv, created=now)
        return result
    error = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
        "payment_method": pm and sb.public(pm),
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
    }
    if pm is None:
        error = {
            "type": "invalid_request_error",
            "code": "payment_method_missing",
            "message": "This customer has no attached payment source or default payment method.",
        }
    pi.update(status="requires_payment_method", last_payment_error=error, next_action=None)
    if pm is not None:
        record_charge(sb, pi, pm, succeeded=False, now=now)
    sb.save(pi)
    sb.save(inv)
    sb.emit("payment_intent.payment_failed", pi, created=now)
    sb.emit("invoice.payment_failed", inv, created=now)
    return result


def succeed(
    sb: Sandbox, inv: dict[str, Any], pi: dict[str, Any], pm: dict[str, Any], now: int
) -> None:
    """Charge ``pm`` for the invoice's payment intent and mark the invoice paid."""
    record_charge(sb, pi, pm, succeeded=True, now=now)
    pi.update(
        status="succeeded",
        amount_received=pi["amount"],
        last_payment_error=None,
        next_action=None,
        payment_method=pm["id"],
    )
    sb.save(pi)
    inpay = sb.store.get(inv["_x"]["inpay"])
    if inpay:
        inpay.update(status="paid", amount_paid=pi["amount"])
        inpay["status_transitions"]["paid_at"] = now
        sb.save(inpay)
    sb.emit("payment_intent.succeeded", pi, created=now)
    customer = sb.load(inv["customer"], "customer")
    customer["delinquent"] = False
    sb.save(customer)
    _mark_paid(sb, inv, now)


def record_charge(
    sb: Sandbox, pi: dict[str, Any], pm: dict[str, Any], *, succeeded: bool, now: int
) -> dict[str, Any]:
    """Record the charge of a payment attempt (``charge.succeeded`` or ``charge.failed``)."""
    ch = money_objects.charge(now=now, base_url=sb.base_url, pi=pi, pm=pm, succeeded=succeeded)
    sb.save(ch)
    pi["latest_charge"] = ch["id"]
    sb.emit("charge.succeeded" if succeeded else "charge.failed", ch, created=now)
    return ch


def void(sb: Sandbox, inv: dict[str, Any], now: int) -> None:
    before = payments.snapshot(inv)
    inv["status"] = "void"
    inv["next_payment_attempt"] = None
    inv["status_transitions"]["voided_at"] = now
    sb.save(inv)
    sb.emit("invoice.voided", inv, created=now)
    sb.emit("invoice.updated", inv, diff(before, inv), created=now)
