"""Offers: a discount with a public code, pushed to Stripe as a coupon plus a promotion
code, checked before Checkout so a reader hears ``offer_expired``, ``offer_exhausted`` or
``offer_not_applicable`` from Masthead, never Stripe's own words.

Stripe's coupons and codes cannot change their terms: a push after the terms changed
withdraws the old code and makes a new coupon and code (the same public code), carrying the
redemptions so far so the total cap still holds.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway
from billing.errors import BillingError
from billing.models import (
    Offer,
    OfferDuration,
    OneTimePayment,
    OneTimePaymentStatus,
    PlanPrices,
    Subscription,
    SubscriptionStatus,
    SyncStatus,
)
from core.errors import ApplicationError
from membership.models import Plan

logger = logging.getLogger(__name__)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,39}$")


class OfferErrorCode:
    NOT_FOUND = "offer_not_found"
    EXPIRED = "offer_expired"
    EXHAUSTED = "offer_exhausted"
    NOT_APPLICABLE = "offer_not_applicable"
    NOT_READY = "offer_not_ready"


def _terms(offer: Offer, product_ids: list[str]) -> dict[str, object]:
    return {
        "percent_off": str(offer.percent_off) if offer.percent_off is not None else None,
        "amount_off": offer.amount_off,
        "currency": offer.currency.lower(),
        "duration": offer.duration,
        "duration_in_months": offer.duration_in_months,
        "products": sorted(product_ids),
        "max_redemptions": offer.max_redemptions,
        "expires_at": int(offer.expires_at.timestamp()) if offer.expires_at else None,
        "first_time_only": offer.first_time_only,
        "code": offer.code,
    }


def _product_ids(offer: Offer) -> list[str]:
    plans = list(offer.plans.all())
    if not plans:
        return []
    rows = PlanPrices.objects.filter(plan__in=plans).exclude(product_id="")
    return list(rows.values_list("product_id", flat=True))


def offer_push(*, offer_id: int) -> Offer:
    """Make Stripe's coupon and promotion code match the offer: new ones when the terms
    changed (the old code withdrawn first), the code on or off offer as the offer is.
    Records failure on the offer and raises ``BillingError``. Calls Stripe: not inside a
    transaction."""
    offer = Offer.objects.get(pk=offer_id)
    terms = _terms(offer, _product_ids(offer))
    pushed = {k: v for k, v in offer.pushed_terms.items() if k != "redeemed_before"}
    revision = f"{timezone.now().timestamp():.6f}"
    try:
        if offer.promotion_code_id and pushed != terms:
            current = stripe_gateway.promotion_code_retrieve(
                promotion_code_id=offer.promotion_code_id
            )
            if current.active:
                stripe_gateway.promotion_code_active_set(
                    promotion_code_id=current.id, active=False, revision=revision
                )
            offer.times_redeemed = _carried(offer) + current.times_redeemed
            offer.pushed_terms = {**offer.pushed_terms, "redeemed_before": offer.times_redeemed}
            offer.promotion_code_id = ""
        if not offer.promotion_code_id and offer.is_active:
            _create(offer, terms, revision)
        elif offer.promotion_code_id:
            current = stripe_gateway.promotion_code_retrieve(
                promotion_code_id=offer.promotion_code_id
            )
            if current.active != offer.is_active:
                current = stripe_gateway.promotion_code_active_set(
                    promotion_code_id=current.id, active=offer.is_active, revision=revision
                )
            offer.times_redeemed = _carried(offer) + current.times_redeemed
    except BillingError as exc:
        offer.status, offer.last_error = SyncStatus.FAILED, f"{exc.code}: {exc.message}"
        offer.save()
        logger.warning("Pushing offer %s to Stripe failed: %s", offer.pk, exc.code)
        raise
    offer.status, offer.last_error, offer.synced_at = SyncStatus.SYNCED, "", timezone.now()
    offer.save()
    logger.info("Offer %s (%s) is in step with Stripe", offer.pk, offer.code)
    return offer


def _carried(offer: Offer) -> int:
    return int(offer.pushed_terms.get("redeemed_before") or 0)


def _create(offer: Offer, terms: dict[str, object], revision: str) -> None:
    carried = _carried(offer)
    left = None if offer.max_redemptions is None else max(1, offer.max_redemptions - carried)
    metadata = {"offer_id": str(offer.pk)}
    coupon = stripe_gateway.coupon_create(
        ids=f"offer:{offer.pk}:{revision}",
        name=offer.name,
        percent_off=float(offer.percent_off) if offer.percent_off is not None else None,
        amount_off=offer.amount_off,
        currency=offer.currency.lower(),
        duration=offer.duration,
        duration_in_months=offer.duration_in_months,
        max_redemptions=left,
        redeem_by=None,
        product_ids=list(terms["products"]),  # type: ignore[call-overload]
        metadata=metadata,
    )
    code = stripe_gateway.promotion_code_create(
        ids=f"offer:{offer.pk}:{coupon.id}",
        coupon_id=coupon.id,
        code=offer.code,
        max_redemptions=left,
        expires_at=int(offer.expires_at.timestamp()) if offer.expires_at else None,
        first_time_only=offer.first_time_only,
        metadata=metadata,
    )
    offer.coupon_id, offer.promotion_code_id = coupon.id, code.id
    offer.pushed_terms = {**terms, "redeemed_before": carried}


def offer_get(*, code: str) -> Offer:
    """The offer with this public code (any case); 404 ``offer_not_found``."""
    offer = Offer.objects.prefetch_related("plans").filter(code__iexact=code.strip()).first()
    if offer is None or not CODE_PATTERN.match(code.strip()):
        raise ApplicationError(
            code=OfferErrorCode.NOT_FOUND, message="There is no offer with this code.", status=404
        )
    return offer


def _has_paid(user: User) -> bool:
    paid_subscription = Subscription.objects.filter(user=user).exclude(
        status__in=[SubscriptionStatus.INCOMPLETE, SubscriptionStatus.INCOMPLETE_EXPIRED]
    )
    paid_once = OneTimePayment.objects.filter(
        user=user, status__in=[OneTimePaymentStatus.PAID, OneTimePaymentStatus.REFUNDED]
    )
    return paid_subscription.exists() or paid_once.exists()


def offer_refusal(
    offer: Offer, *, plan: Plan | None = None, user: User | None = None, at: datetime | None = None
) -> ApplicationError | None:
    """Why the offer cannot be used now (for this plan, by this reader), or None."""
    now = at or timezone.now()
    if not offer.is_active or (offer.expires_at is not None and now >= offer.expires_at):
        return ApplicationError(
            code=OfferErrorCode.EXPIRED, message=f"The offer {offer.code} has ended.", status=410
        )
    if offer.max_redemptions is not None and offer.times_redeemed >= offer.max_redemptions:
        return ApplicationError(
            code=OfferErrorCode.EXHAUSTED,
            message=f"The offer {offer.code} has been used by as many readers as it allowed.",
            status=409,
        )
    if plan is not None and not offer_covers(offer, plan):
        return ApplicationError(
            code=OfferErrorCode.NOT_APPLICABLE,
            message=f"The offer {offer.code} does not apply to {plan.name}.",
            status=409,
        )
    if user is not None and offer.first_time_only and _has_paid(user):
        return ApplicationError(
            code=OfferErrorCode.NOT_APPLICABLE,
            message=f"The offer {offer.code} is for new members only.",
            status=409,
        )
    return None


def offer_covers(offer: Offer, plan: Plan) -> bool:
    chosen = [p.pk for p in offer.plans.all()]
    return not chosen or plan.pk in chosen


def offer_for_checkout(*, code: str, plan: Plan, user: User) -> Offer:
    """The offer to apply to the reader's Checkout for the plan, with its redemptions
    counted by Stripe just now; refuses as ``offer_refusal`` says, or 503
    ``offer_not_ready`` before its first push. Calls Stripe: not inside a transaction."""
    offer = offer_get(code=code)
    refusal = offer_refusal(offer, plan=plan, user=user)
    if refusal is not None:
        raise refusal
    if not offer.promotion_code_id or offer.status != SyncStatus.SYNCED:
        raise ApplicationError(
            code=OfferErrorCode.NOT_READY,
            message="This offer is not ready yet. Please try again shortly.",
            status=503,
        )
    current = stripe_gateway.promotion_code_retrieve(promotion_code_id=offer.promotion_code_id)
    counted = _carried(offer) + current.times_redeemed
    if counted != offer.times_redeemed:
        Offer.objects.filter(pk=offer.pk).update(times_redeemed=counted)
        offer.times_redeemed = counted
    refusal = offer_refusal(offer, plan=plan, user=user)
    if refusal is not None:
        raise refusal
    return offer


def offer_refusal_after_stripe(offer: Offer, *, plan: Plan, user: User) -> ApplicationError:
    """What to tell the reader when Stripe refused the offer's code after Masthead's checks
    passed (a redemption in between, the code's own expiry): Masthead's code, never Stripe's
    text."""
    try:
        current = stripe_gateway.promotion_code_retrieve(promotion_code_id=offer.promotion_code_id)
        offer.times_redeemed = _carried(offer) + current.times_redeemed
        Offer.objects.filter(pk=offer.pk).update(times_redeemed=offer.times_redeemed)
    except BillingError:
        pass
    return offer_refusal(offer, plan=plan, user=user) or ApplicationError(
        code=OfferErrorCode.NOT_APPLICABLE,
        message=f"The offer {offer.code} cannot be used for this purchase.",
        status=409,
    )


def offer_discounted(offer: Offer, amount: int) -> int:
    """What a payment of ``amount`` costs with the offer."""
    if offer.percent_off is not None:
        off = int((Decimal(amount) * offer.percent_off / 100).quantize(Decimal(1)))
    else:
        off = offer.amount_off or 0
    return max(0, amount - min(amount, off))


def offer_describe(offer: Offer) -> str:
    """The terms in words: "50% off the first payment", "£3.00 off for 3 months"."""
    if offer.percent_off is not None:
        what = f"{offer.percent_off.normalize():f}% off"
    else:
        what = f"{(offer.amount_off or 0) / 100:.2f} {offer.currency.upper()} off"
    if offer.duration == OfferDuration.REPEATING:
        months = offer.duration_in_months or 1
        return f"{what} for {months} month{'s' if months != 1 else ''}"
    if offer.duration == OfferDuration.FOREVER:
        return f"{what} every payment"
    return f"{what} the first payment"


def offers_on_offer() -> list[Offer]:
    """Offers a reader can use now (for the demo and the admin)."""
    now = timezone.now()
    return list(
        Offer.objects.filter(is_active=True, status=SyncStatus.SYNCED).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
    )


@dataclass(frozen=True)
class OfferPrice:
    plan: Plan
    interval: str
    amount: int
    discounted: int
