"""Money that moved, read from stored Stripe events: paid invoices, paid one-time
Checkout payments, and refunds. The only place that reads these events' keys."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing.stripe_gateway.shapes import _metadata_id, moment, stripe_id_of

# The event types that carry money received or given back.
MONEY_EVENT_TYPES = ("invoice.paid", "checkout.session.completed", "charge.refunded")


@dataclass(frozen=True)
class MoneyMovement:
    """Money received (``amount`` > 0) or refunded (< 0), in minor units of ``currency``.

    ``reference`` names the movement once however often its event was delivered: the
    invoice, the Checkout session, or the charge and its refunded total after the refund.
    """

    reference: str
    customer_id: str
    user_id: int | None
    currency: str
    amount: int
    at: datetime


def _created(payload: dict[str, Any]) -> datetime | None:
    return moment(payload.get("created"))


def _movement(data: dict[str, Any], *, reference: str, amount: int, at: datetime) -> MoneyMovement:
    """The movement of ``amount`` (negative for money returned) on the Stripe object ``data``."""
    return MoneyMovement(
        reference=reference,
        customer_id=stripe_id_of(data.get("customer")),
        user_id=_metadata_id(data, "user_id"),
        currency=str(data.get("currency") or "").lower(),
        amount=amount,
        at=at,
    )


def _invoice(payload: dict[str, Any], data: dict[str, Any]) -> MoneyMovement | None:
    paid = int(data.get("amount_paid") or 0)
    at = moment((data.get("status_transitions") or {}).get("paid_at")) or _created(payload)
    if paid <= 0 or at is None:
        return None
    return _movement(data, reference=f"invoice:{data.get('id', '')}", amount=paid, at=at)


def _checkout(payload: dict[str, Any], data: dict[str, Any]) -> MoneyMovement | None:
    total = int(data.get("amount_total") or 0)
    at = _created(payload)
    if data.get("mode") != "payment" or data.get("payment_status") != "paid" or total <= 0:
        return None
    if at is None:
        return None
    return _movement(data, reference=f"checkout:{data.get('id', '')}", amount=total, at=at)


def _refund(payload: dict[str, Any], data: dict[str, Any]) -> MoneyMovement | None:
    refunded = int(data.get("amount_refunded") or 0)
    before = (payload.get("data") or {}).get("previous_attributes") or {}
    delta = refunded - int(before.get("amount_refunded") or 0)
    at = _created(payload)
    if delta <= 0 or at is None:
        return None
    reference = f"refund:{data.get('id', '')}:{refunded}"
    return _movement(data, reference=reference, amount=-delta, at=at)


def money_movement(*, event_type: str, payload: dict[str, Any]) -> MoneyMovement | None:
    """The money a stored event records, or None when it records none."""
    data = (payload.get("data") or {}).get("object") or {}
    if event_type == "invoice.paid":
        return _invoice(payload, data)
    if event_type == "checkout.session.completed":
        return _checkout(payload, data)
    if event_type == "charge.refunded":
        return _refund(payload, data)
    return None
