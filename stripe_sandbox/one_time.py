"""Checkout in ``mode=payment``: one-time prices paid once, by card at once or by bank debit
(SEPA Direct Debit) a little later, as Stripe's test mode does."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import discounts, invoicing, payments
from .errors import StripeError, invalid
from .ids import random_token
from .objects import billing
from .objects import money as money_objects

if TYPE_CHECKING:
    from .app import Sandbox

# Stripe's test IBANs: the debit succeeds, or fails, once it has been processing a while.
TEST_IBANS = {
    "DE89370400440532013000": "succeeded",
    "AT611904300234573201": "succeeded",
    "AT861904300235473202": "failed",
    "DE62370400440532013001": "failed",
}
# Parameters Stripe takes only in ``mode=payment``.
PAYMENT_ONLY = ("payment_intent_data", "customer_creation", "invoice_creation", "submit_type")


def check_mode_params(p: dict[str, Any], mode: str) -> None:
    """Refuse parameters of the other mode, as Stripe does."""
    if mode == "payment" and p.get("subscription_data"):
        raise invalid(
            "subscription_data", "You can not pass `subscription_data` in `payment` mode."
        )
    if mode == "subscription":
        for key in PAYMENT_ONLY:
            if p.get(key):
                raise invalid(key, f"`{key}` can only be used in `payment` mode.")


def check_first_time(p: dict[str, Any], mode: str, redemptions: list[Any]) -> None:
    """Refuse a first-time-only promotion code on a session that will have no customer to
    check it against (no ``customer``, and in payment mode no ``customer_creation=always``)."""
    creates = mode == "subscription" or p.get("customer_creation") == "always"
    if p.get("customer") or creates:
        return
    for _, promo in redemptions:
        if promo and promo["restrictions"]["first_time_transaction"]:
            raise invalid(
                "discounts",
                "This promotion code is restricted to first-time customers, so the Checkout "
                "Session needs a customer: pass `customer` or set `customer_creation` to "
                "`always`.",
            )


def check_price(price: dict[str, Any], mode: str, param: str) -> None:
    if mode == "payment" and price["type"] == "recurring":
        raise invalid(
            param,
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
        )


def shape_session(cs: dict[str, Any], p: dict[str, Any]) -> None:
    """Give a new session the keys Stripe gives a ``mode=payment`` one."""
    cs["mode"] = "payment"
    cs["payment_method_collection"] = None
    cs["customer_creation"] = None if cs["customer"] else p.get("customer_creation", "if_required")
    cs["submit_type"] = p.get("submit_type")
    invoice = p.get("invoice_creation") or {}
    cs["invoice_creation"] = {
        "enabled": bool(invoice.get("enabled")),
        "invoice_data": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": None,
            "metadata": {},
            "rendering_options": None,
        },
    }


def method_for(entry: str) -> tuple[str, str]:
    """Return ("card", token) or ("iban", outcome) for what the customer typed."""
    entry = entry.replace(" ", "").upper()
    if entry[:2].isalpha():
        if entry not in TEST_IBANS:
            raise StripeError(
                "The IBAN you entered is invalid.",
                status=402,
                type="invalid_request_error",
                code="invalid_bank_account_iban",
            )
        return "iban", entry
    return "card", payments.token_for_number(entry)


def _sepa_pm(sb: Sandbox, iban: str, *, now: int, email: str | None) -> dict[str, Any]:
    pm = payments.create_pm(sb, "pm_card_visa", now=now, email=email)
    del pm["card"]
    pm.update(
        type="sepa_debit",
        sepa_debit={
            "bank_code": iban[4:12],
            "branch_code": "",
            "country": iban[:2],
            "fingerprint": random_token(16),
            "generated_from": {"charge": None, "setup_attempt": None},
            "last4": iban[-4:],
        },
        _behaviour=TEST_IBANS[iban],
        _iban=iban,
    )
    return sb.save(pm)


def complete(
    sb: Sandbox,
    cs: dict[str, Any],
    *,
    method: tuple[str, str],
    email: str | None,
    redeem: Callable[[Sandbox, dict[str, Any], dict[str, Any]], list[Any]],
) -> dict[str, Any]:
    """Pay a ``mode=payment`` session: a card is charged now (``payment_status=paid``), a
    bank debit starts processing (``unpaid`` until it settles); a declined card raises."""
    kind, value = method
    if (
        kind == "card"
        and payments.outcome({"_behaviour": _card_behaviour(value)}, off_session=False)
        != "succeeded"
    ):
        raise StripeError(
            "Your card was declined.",
            status=402,
            type="card_error",
            code="card_declined",
            decline_code="generic_decline",
        )
    customer = sb.load(cs["customer"], "customer") if cs["customer"] else None
    if customer is None and cs["customer_creation"] == "always":
        from .objects import core

        customer = core.customer(now=sb.now(), email=cs["customer_email"] or email)
        sb.save(customer)
        sb.emit("customer.created", customer)
    now = sb.now_for(customer)
    payer_email = customer["email"] if customer else cs["customer_email"] or email
    if cs["_x"].get("redemptions"):
        guest = {"id": None}
        for coupon, promo in redeem(sb, cs, customer or guest):
            discounts.redeem(sb, coupon, promo)
    pi_id = None
    status = "no_payment_required"
    if cs["amount_total"] > 0:
        if kind == "card":
            pm = payments.create_pm(sb, value, now=now, email=payer_email)
        else:
            pm = _sepa_pm(sb, value, now=now, email=payer_email)
        if customer is not None:
            payments.attach(sb, pm, customer)
        pi = _payment_intent(sb, cs, customer, pm, now)
        pi_id = pi["id"]
        if kind == "card":
            _succeed(sb, pi, pm, now)
            status = "paid"
        else:
            _start_debit(sb, pi, pm, now)
            status = "unpaid"
    cs.update(
        status="complete",
        customer=customer["id"] if customer else None,
        payment_intent=pi_id,
        payment_status=status,
        url=None,
    )
    cs["customer_details"] = {
        "address": None,
        "business_name": None,
        "email": payer_email,
        "individual_name": None,
        "name": customer["name"] if customer else None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
    sb.save(cs)
    sb.emit("checkout.session.completed", cs, created=now)
    return cs


def _card_behaviour(token: str) -> str:
    from .objects import core

    return core.TEST_CARDS[token][2]


def _payment_intent(
    sb: Sandbox,
    cs: dict[str, Any],
    customer: dict[str, Any] | None,
    pm: dict[str, Any],
    now: int,
) -> dict[str, Any]:
    data = cs["_x"].get("payment_intent_data") or {}
    pi = billing.payment_intent(
        now=now,
        amount=cs["amount_total"],
        currency=cs["currency"],
        customer=customer["id"] if customer else None,
        payment_method=pm["id"],
        description=data.get("description"),
    )
    pi.update(
        metadata=dict(data.get("metadata") or {}),
        receipt_email=data.get("receipt_email"),
        setup_future_usage=data.get("setup_future_usage"),
        payment_method_types=[pm["type"]],
    )
    sb.save(pi)
    sb.emit("payment_intent.created", pi, created=now)
    return pi


def _succeed(sb: Sandbox, pi: dict[str, Any], pm: dict[str, Any], now: int) -> None:
    invoicing.record_charge(sb, pi, pm, succeeded=True, now=now)
    pi.update(status="succeeded", amount_received=pi["amount"], processing=None)
    sb.save(pi)
    sb.emit("payment_intent.succeeded", pi, created=now)


def _start_debit(sb: Sandbox, pi: dict[str, Any], pm: dict[str, Any], now: int) -> None:
    ch = money_objects.charge(now=now, base_url=sb.base_url, pi=pi, pm=pm, succeeded=True)
    ch.update(status="pending", paid=False)
    sb.save(ch)
    pi.update(status="processing", latest_charge=ch["id"], processing=None)
    pi["_settle_at"] = now + sb.settings.async_payment_seconds
    sb.save(pi)
    sb.emit("charge.pending", ch, created=now)
    sb.emit("payment_intent.processing", pi, created=now)


def settle_due(sb: Sandbox) -> int:
    """Settle the bank debits whose processing time is over: the charge succeeds or fails
    and the session says so (``checkout.session.async_payment_succeeded`` / ``_failed``)."""
    settled = 0
    for pi in sb.store.all("payment_intent"):
        due = pi.get("_settle_at")
        if pi["status"] != "processing" or not due or sb.now_for(pi) < due:
            continue
        now = sb.now_for(pi)
        ch = sb.load(pi["latest_charge"], "charge")
        pm = sb.load(pi["payment_method"], "payment_method")
        sessions = [
            cs for cs in sb.store.all("checkout.session") if cs.get("payment_intent") == pi["id"]
        ]
        pi["_settle_at"] = None
        if pm.get("_behaviour") == "succeeded":
            ch.update(status="succeeded", paid=True, captured=True)
            sb.save(ch)
            sb.emit("charge.succeeded", ch, created=now)
            pi.update(status="succeeded", amount_received=pi["amount"])
            sb.save(pi)
            sb.emit("payment_intent.succeeded", pi, created=now)
            event, status = "checkout.session.async_payment_succeeded", "paid"
        else:
            ch.update(
                status="failed",
                paid=False,
                captured=False,
                amount_captured=0,
                failure_code="insufficient_funds",
                failure_message="The customer's account has insufficient funds to cover this "
                "payment.",
                outcome=dict(money_objects.DECLINED),
            )
            sb.save(ch)
            sb.emit("charge.failed", ch, created=now)
            pi.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "invalid_request_error",
                    "code": "insufficient_funds",
                    "message": ch["failure_message"],
                    "payment_method": sb.public(pm),
                },
            )
            sb.save(pi)
            sb.emit("payment_intent.payment_failed", pi, created=now)
            event, status = "checkout.session.async_payment_failed", "unpaid"
        for cs in sessions:
            cs["payment_status"] = status
            sb.save(cs)
            sb.emit(event, cs, created=now)
        settled += 1
    return settled
