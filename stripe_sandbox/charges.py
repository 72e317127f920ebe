"""Refunds, and what a customer does to an invoice's payment: authenticate it or pay it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import invoicing, lifecycle, payments
from .app import diff
from .errors import StripeError, invalid
from .objects import money

if TYPE_CHECKING:
    from .app import Sandbox

AUTHENTICATION_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide "
    "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


# refunds --------------------------------------------------------------------------------------
def refund(
    sb: Sandbox,
    ch: dict[str, Any],
    *,
    amount: int | None,
    reason: str | None,
    metadata: dict[str, str],
) -> dict[str, Any]:
    """Refund ``amount`` (all that is left by default) of a charge, as Stripe does."""
    if ch["status"] != "succeeded":
        raise StripeError(
            f"Charge {ch['id']} has not succeeded and cannot be refunded.", param="charge"
        )
    remaining = ch["amount_captured"] - ch["amount_refunded"]
    if remaining <= 0:
        raise StripeError(
            f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded"
        )
    if amount is None:
        amount = remaining
    if amount <= 0:
        raise invalid("amount", "Invalid positive integer", "parameter_invalid_integer")
    if amount > remaining:
        asked = invoicing.money(amount, ch["currency"])
        if ch["amount_refunded"]:
            left = invoicing.money(remaining, ch["currency"])
            message = (
                f"Refund amount ({asked}) is greater than unrefunded amount on charge ({left})"
            )
        else:
            whole = invoicing.money(ch["amount_captured"], ch["currency"])
            message = f"Refund amount ({asked}) is greater than charge amount ({whole})"
        raise StripeError(message, param="amount")
    now = sb.now_for(ch)
    re = money.refund(now=now, ch=ch, amount=amount, reason=reason, metadata=metadata)
    sb.save(re)
    before = payments.snapshot(ch)
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
    ch["refunds"]["data"].insert(0, sb.public(re))
    sb.save(ch)
    sb.emit("charge.refunded", ch, diff(before, ch), created=now)
    sb.emit("refund.created", re, created=now)
    return re


def charge_of_payment_intent(sb: Sandbox, pi_id: str, param: str) -> dict[str, Any]:
    """Return the successful charge of a payment intent, or refuse as Stripe does."""
    pi = sb.load(pi_id, "payment_intent", param)
    ch = sb.store.get(pi["latest_charge"]) if pi["latest_charge"] else None
    if pi["status"] != "succeeded" or ch is None:
        raise StripeError(
            f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
            param=param,
        )
    return ch


# after a payment attempt ------------------------------------------------------------------------
def settle(sb: Sandbox, inv: dict[str, Any], result: str, now: int) -> None:
    """Move the invoice's subscription after a payment the customer (or the API) made."""
    sub = sb.store.get(inv["subscription"]) if inv["subscription"] else None
    if sub is None:
        return
    if result == "succeeded" and sub["status"] in ("incomplete", "past_due", "unpaid"):
        others = [i for i in lifecycle.open_invoices(sb, sub) if i["id"] != inv["id"]]
        if not others:
            lifecycle.after_payment(sb, sub, inv, result, now)
    elif result not in ("succeeded", "authentication_failed") and sub["status"] == "past_due":
        lifecycle.after_payment(sb, sub, inv, result, now)


def pending_payment_intent(sb: Sandbox, inv: dict[str, Any]) -> dict[str, Any] | None:
    """Return the invoice's payment intent if it waits for the customer's authentication."""
    pi_id = inv["_x"].get("pi")
    pi = sb.store.get(pi_id) if pi_id else None
    if inv["status"] == "open" and pi and pi["status"] == "requires_action":
        return pi
    return None


def authenticate(sb: Sandbox, inv: dict[str, Any], *, success: bool) -> str:
    """Complete or fail the 3-D Secure step of an invoice's payment, as the test page does."""
    pi = pending_payment_intent(sb, inv)
    if pi is None:
        raise StripeError("This payment does not need authentication.")
    now = sb.now_for(inv)
    pm = sb.store.get(pi["payment_method"]) if pi["payment_method"] else None
    if success and pm is not None:
        invoicing.succeed(sb, inv, pi, pm, now)
        result = "succeeded"
    else:
        pi.update(
            status="requires_payment_method",
            next_action=None,
            last_payment_error={
                "type": "invalid_request_error",
                "code": "payment_intent_authentication_failure",
                "message": AUTHENTICATION_FAILED,
                "doc_url": "https://stripe.com/docs/error-codes/"
                "payment-intent-authentication-failure",
                "payment_method": sb.public(pm) if pm else None,
            },
        )
        sb.save(pi)
        sb.emit("payment_intent.payment_failed", pi, created=now)
        sb.emit("invoice.payment_failed", inv, created=now)
        result = "authentication_failed"
    settle(sb, inv, result, now)
    return result


def pay_with_card(sb: Sandbox, inv: dict[str, Any], token: str) -> str:
    """Pay an open invoice from its hosted page with a test card; return the attempt's result.

    The page is a customer's own payment: a card that asks for authentication (3184) asks for
    it here too, and the page then shows the authentication step.
    """
    if inv["status"] != "open":
        raise StripeError(f"This invoice is {inv['status']}; there is nothing to pay.")
    customer = sb.load(inv["customer"], "customer")
    now = sb.now_for(inv)
    pm = payments.create_pm(sb, token, now=now, email=customer["email"])
    payments.attach(sb, pm, customer)
    result = invoicing.attempt(sb, inv, pm, now=now, off_session=True)
    settle(sb, inv, result, now)
    return result
