"""One-time purchases (Checkout in payment mode): open one, fulfil it once when Stripe says
the money is in, undo it on a refund.

What a purchase buys is its ``kind`` (Stripe metadata ``kind``). The app that sells a kind
registers it with ``payment_kind_register`` from its ``AppConfig.ready``: ``fulfil`` runs
once per Checkout session, inside the transaction that marks the payment paid (so it must
not call Stripe; it writes rows and outbox emails); ``refund`` runs inside the transaction
that records a refund of it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway
from billing.errors import BillingError, BillingErrorCode
from billing.models import OneTimePayment, OneTimePaymentStatus
from billing.services import customer_ensure
from billing.stripe_gateway import StripeCharge, StripeCheckoutSession

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentKind:
    fulfil: Callable[[OneTimePayment, StripeCheckoutSession], None]
    refund: Callable[[OneTimePayment, StripeCharge], None]


PAYMENT_KINDS: dict[str, PaymentKind] = {}


def payment_kind_register(
    kind: str,
    *,
    fulfil: Callable[[OneTimePayment, StripeCheckoutSession], None],
    refund: Callable[[OneTimePayment, StripeCharge], None],
) -> None:
    """Say what fulfils and what refunds purchases of ``kind``."""
    PAYMENT_KINDS[kind] = PaymentKind(fulfil=fulfil, refund=refund)


@dataclass(frozen=True)
class PaymentStart:
    payment: OneTimePayment
    url: str


def one_time_checkout_start(
    *,
    user: User,
    kind: str,
    line_items: list[tuple[str, int]],
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    promotion_code_id: str = "",
    description: str = "",
) -> PaymentStart:
    """Open a Checkout session in payment mode for the reader and record the purchase as
    open. ``metadata`` (strings) goes to Stripe with ``kind`` and ``user_id`` added; the
    success URL may carry ``{CHECKOUT_SESSION_ID}``. Calls Stripe: not inside a transaction."""
    if kind not in PAYMENT_KINDS:
        raise ValueError(f"No one-time payment kind {kind!r} is registered")
    customer = customer_ensure(user=user)
    sent = {**metadata, "kind": kind, "user_id": str(user.pk)}
    session = stripe_gateway.checkout_payment_create(
        ids=f"user:{user.pk}:{kind}:{uuid4().hex}",
        line_items=line_items,
        metadata=sent,
        success_url=success_url,
        cancel_url=cancel_url,
        customer_id=customer.stripe_id,
        client_reference_id=str(user.pk),
        promotion_code_id=promotion_code_id,
        description=description,
    )
    payment, _ = OneTimePayment.objects.get_or_create(
        checkout_session_id=session.id,
        defaults={"kind": kind, "user": user, "metadata": sent, "amount": session.amount_total},
    )
    logger.info("User %s opened %s Checkout session %s", user.pk, kind, session.id)
    return PaymentStart(payment=payment, url=session.url)


def _payment_for_update(session: StripeCheckoutSession) -> OneTimePayment:
    """The purchase's row, locked; made from the session when Masthead has no row for it
    (the session was opened elsewhere, e.g. from Stripe's dashboard)."""
    row = OneTimePayment.objects.select_for_update().filter(checkout_session_id=session.id).first()
    if row is not None:
        return row
    user_id = session.metadata.get("user_id", "")
    OneTimePayment.objects.get_or_create(
        checkout_session_id=session.id,
        defaults={
            "kind": session.kind,
            "user": User.objects.filter(pk=int(user_id)).first() if user_id.isdigit() else None,
            "metadata": session.metadata,
        },
    )
    return OneTimePayment.objects.select_for_update().get(checkout_session_id=session.id)


@transaction.atomic
def one_time_payment_apply(
    *, session: StripeCheckoutSession, debit_failed: bool = False
) -> OneTimePayment:
    """Apply a payment-mode session as Stripe has it now: once paid, mark the purchase paid
    and fulfil it (once per session, however often this runs); a bank debit still
    processing is noted and waits for its settlement, one that failed is marked failed."""
    payment = _payment_for_update(session)
    if payment.status in (OneTimePaymentStatus.PAID, OneTimePaymentStatus.REFUNDED):
        return payment
    payment.payment_intent_id = session.payment_intent_id
    payment.amount = session.amount_total
    payment.currency = session.currency
    if not session.is_paid:
        if session.is_complete:
            failed = debit_failed or payment.status == OneTimePaymentStatus.FAILED
            payment.status = (
                OneTimePaymentStatus.FAILED if failed else OneTimePaymentStatus.PROCESSING
            )
        payment.save()
        return payment
    payment.status = OneTimePaymentStatus.PAID
    payment.paid_at = timezone.now()
    payment.save()
    kind = PAYMENT_KINDS.get(payment.kind)
    if kind is None:
        logger.warning("Paid session %s has no known kind %r", session.id, payment.kind)
        return payment
    kind.fulfil(payment, session)
    logger.info("Fulfilled %s purchase %s (session %s)", payment.kind, payment.pk, session.id)
    return payment


def one_time_payment_sync(*, session_id: str, debit_failed: bool = False) -> OneTimePayment:
    """Fetch the session from Stripe and apply it (events come late, twice, out of order:
    the fetched state is the one applied); ``debit_failed`` when Stripe said its bank debit
    failed."""
    session = stripe_gateway.checkout_session_retrieve(session_id=session_id)
    if session.mode != "payment":
        raise BillingError(
            code=BillingErrorCode.NOT_FOUND, message="No such one-time payment.", status=404
        )
    return one_time_payment_apply(session=session, debit_failed=debit_failed)


def one_time_payment_refund(*, charge: StripeCharge) -> OneTimePayment | None:
    """Record a refund of a purchase's charge and let its kind undo what it gave (once per
    refunded amount). A refund that arrives before the payment was applied (events out of
    order) first applies the payment from Stripe. Returns None for a charge of no one-time
    purchase. Calls Stripe in that case: not inside a transaction."""
    known = OneTimePayment.objects.filter(payment_intent_id=charge.payment_intent_id).exists()
    if not known and charge.metadata.get("kind") and charge.payment_intent_id:
        session = stripe_gateway.checkout_session_of_payment_intent(
            payment_intent_id=charge.payment_intent_id
        )
        if session is not None:
            one_time_payment_apply(session=session)
    return _refund_record(charge)


@transaction.atomic
def _refund_record(charge: StripeCharge) -> OneTimePayment | None:
    payment = (
        OneTimePayment.objects.select_for_update()
        .filter(payment_intent_id=charge.payment_intent_id)
        .exclude(payment_intent_id="")
        .first()
    )
    if payment is None or charge.amount_refunded <= payment.amount_refunded:
        return payment
    payment.amount_refunded = charge.amount_refunded
    if charge.refunded:
        payment.status = OneTimePaymentStatus.REFUNDED
        payment.refunded_at = timezone.now()
    payment.save()
    kind = PAYMENT_KINDS.get(payment.kind)
    if kind is not None:
        kind.refund(payment, charge)
    logger.info(
        "Refund of %s purchase %s recorded (%s of %s)",
        payment.kind,
        payment.pk,
        charge.amount_refunded,
        charge.amount,
    )
    return payment
