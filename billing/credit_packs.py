"""Credit packs at Stripe and buying one: each pack is a product with one one-time price;
a reader buys a pack through Checkout in payment mode (purchase kind ``credits``), and the
paid session adds its credits once; a refund removes what is left of them."""

import logging
from functools import partial

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway
from billing.errors import BillingError, BillingErrorCode
from billing.models import CreditPack, OneTimePayment, SyncStatus
from billing.one_time import PaymentStart, one_time_checkout_start, payment_kind_register
from billing.stripe_gateway import StripeCharge, StripeCheckoutSession
from core.site import site_url
from membership.services import credits_add, credits_refund

logger = logging.getLogger(__name__)

KIND = "credits"


def credit_pack_push(*, pack_id: int) -> CreditPack:
    """Make the pack's Stripe product and one-time price match it (a new amount is a new
    price, the old one taken off sale). Stripe's refusal is recorded on the pack and raised.
    Calls Stripe: not inside a transaction."""
    pack = CreditPack.objects.get(pk=pack_id)
    revision = f"{timezone.now().timestamp():.6f}"
    metadata = {"credit_pack_id": str(pack.pk)}
    try:
        if not pack.product_id:
            product = stripe_gateway.catalog_product_create(
                ids=f"credit-pack:{pack.pk}", name=pack.name, metadata=metadata
            )
            pack.product_id = product.id
        currency = pack.currency.lower()
        if pack.price_amount != pack.amount or pack.price_currency != currency:
            old = pack.price_id
            price = stripe_gateway.one_time_price_create(
                ids=f"credit-pack:{pack.pk}:{revision}",
                product_id=pack.product_id,
                amount=pack.amount,
                currency=currency,
                metadata=metadata,
            )
            pack.price_id, pack.price_amount, pack.price_currency = price.id, pack.amount, currency
            if old:
                stripe_gateway.price_active_set(price_id=old, active=False, revision=revision)
    except BillingError as exc:
        pack.status = SyncStatus.FAILED
        pack.last_error = f"{exc.message} ({exc.code})"
        pack.save(update_fields=["product_id", "status", "last_error"])
        logger.warning("Pushing credit pack %s to Stripe failed: %s", pack.pk, exc.code)
        raise
    pack.status, pack.last_error, pack.synced_at = SyncStatus.SYNCED, "", timezone.now()
    pack.save()
    logger.info("Credit pack %s is in step with Stripe: price %s", pack.pk, pack.price_id)
    return pack


def credit_pack_mark_pending(*, pack_id: int) -> None:
    """Mark the pack as waiting to be pushed to Stripe."""
    CreditPack.objects.filter(pk=pack_id).update(status=SyncStatus.PENDING)


def credits_checkout_start(*, user: User, pack_slug: str, next_url: str = "") -> PaymentStart:
    """Open Checkout in payment mode for a credit pack. Refuses ``unknown_pack`` (404) and
    ``pack_not_synced`` (503). Calls Stripe: not inside a transaction."""
    pack = CreditPack.objects.filter(slug=pack_slug, is_active=True).first()
    if pack is None:
        raise BillingError(
            code=BillingErrorCode.UNKNOWN_PACK,
            message=f"There is no credit pack {pack_slug!r}.",
            status=404,
        )
    if not pack.on_sale:
        raise BillingError(
            code=BillingErrorCode.PACK_NOT_SYNCED,
            message=f"{pack.name} is not on sale through Stripe yet. Please try again shortly.",
            status=503,
        )
    back = site_url(reverse("web:account"))
    success = next_url or back
    joiner = "&" if "?" in success else "?"
    return one_time_checkout_start(
        user=user,
        kind=KIND,
        line_items=[(pack.price_id, 1)],
        metadata={"credit_pack": pack.slug, "credits": str(pack.credits)},
        success_url=f"{success}{joiner}credits_session={{CHECKOUT_SESSION_ID}}",
        cancel_url=back,
        description=f"Masthead credits: {pack.name}",
    )


def _fulfil(payment: OneTimePayment, session: StripeCheckoutSession) -> None:
    """Add the pack's credits to the buyer's balance, once per session."""
    credits = payment.metadata.get("credits") or session.metadata.get("credits", "")
    if payment.user is None or not str(credits).isdigit():
        logger.warning("Credit purchase %s names no reader or credits; nothing added", payment.pk)
        return
    credits_add(
        user=payment.user,
        reference=session.id,
        credits=int(credits),
        pack=str(payment.metadata.get("credit_pack", "")),
        payment_ref=session.payment_intent_id,
    )


def _refund(payment: OneTimePayment, charge: StripeCharge) -> None:
    """Remove the unspent credits of the refunded purchase."""
    credits_refund(reference=payment.checkout_session_id)


def credits_kind_register() -> None:
    """Let the one-time payments fulfil and refund purchases of credits."""
    payment_kind_register(KIND, fulfil=_fulfil, refund=_refund)


def credit_pack_push_queue(*, pack_ids: list[int]) -> None:
    """Mark the packs pending and push each once the transaction commits."""
    from billing.tasks import credit_pack_push as push_task  # the tasks import this module

    for pack_id in pack_ids:
        credit_pack_mark_pending(pack_id=pack_id)
        transaction.on_commit(partial(push_task.delay, pack_id), robust=True)


def credit_packs_on_sale() -> list[CreditPack]:
    """The packs readers can buy now, in display order."""
    return [pack for pack in CreditPack.objects.filter(is_active=True) if pack.on_sale]
