"""Payment methods and the outcome of charging them (Stripe's test cards)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .errors import StripeError, card_declined, no_such
from .objects import core

if TYPE_CHECKING:
    from .app import Sandbox


def create_pm(sb: Sandbox, token: str, *, now: int, email: str | None = None) -> dict[str, Any]:
    """Return a new, unattached payment method for a test token such as ``pm_card_visa``."""
    brand, last4, behaviour = core.TEST_CARDS[token]
    pm = core.payment_method(now=now, brand=brand, last4=last4, behaviour=behaviour, email=email)
    return sb.save(pm)


def attach(sb: Sandbox, pm: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
    """Attach a payment method to a customer as Stripe does (a declining card is refused)."""
    if pm.get("customer") == customer["id"]:
        return pm
    if pm.get("customer"):
        raise StripeError(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
            code="payment_method_unexpected_state",
        )
    if pm.get("_behaviour") == "declined":
        raise card_declined("generic_decline")
    pm["customer"] = customer["id"]
    sb.save(pm)
    sb.emit("payment_method.attached", pm)
    return pm


def resolve(
    sb: Sandbox,
    ref: str,
    customer: dict[str, Any] | None,
    param: str,
) -> dict[str, Any]:
    """Return the payment method ``ref`` names (a test token makes a new one), attached."""
    if ref in core.TEST_CARDS:
        pm = create_pm(sb, ref, now=sb.now_for(customer))
    else:
        found = sb.store.get(ref)
        if found is None or found.get("object") != "payment_method":
            raise no_such("PaymentMethod", ref, param)
        pm = found
    if customer is not None:
        if pm.get("customer") not in (None, customer["id"]):
            raise StripeError(
                f"The customer does not have a payment method with the ID {ref}. The payment "
                "method must be attached to the customer.",
                param=param,
                code="resource_missing",
                status=400,
            )
        attach(sb, pm, customer)
    return pm


def outcome(pm: dict[str, Any] | None, *, off_session: bool) -> str:
    """Return ``succeeded``, ``declined`` or ``requires_action`` for a charge on ``pm``."""
    if pm is None:
        return "no_payment_method"
    behaviour = pm.get("_behaviour", "ok")
    if behaviour in ("declined", "fail_later"):
        return "declined"
    if behaviour == "auth_offsession" and off_session:
        return "requires_action"
    return "succeeded"


def default_pm(
    sb: Sandbox,
    sub: dict[str, Any] | None,
    customer: dict[str, Any],
) -> dict[str, Any] | None:
    """Return the payment method a subscription (or its customer) charges."""
    ref = (sub or {}).get("default_payment_method") or customer["invoice_settings"].get(
        "default_payment_method"
    )
    return sb.store.get(ref) if ref else None


def token_for_number(number: str) -> str:
    """Return the test token of a card number typed on a hosted page (4242 for any other
    Luhn-valid number); refuse an invalid number as Stripe's pages do."""
    number = number.replace(" ", "")
    token = core.CARD_NUMBERS.get(number)
    if token is not None:
        return token
    if not _luhn(number):
        raise StripeError(
            "Your card number is invalid.", status=402, type="card_error", code="invalid_number"
        )
    return "pm_card_visa"


def _luhn(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def snapshot(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)
