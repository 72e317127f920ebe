"""Paying: a reader opens Stripe Checkout for a plan, comes back from it, manages billing.

These services call Stripe, so none of them runs inside a database transaction; the
writes they lead to happen in ``billing.services`` once Stripe has answered.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from uuid import uuid4

from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway
from billing.errors import BillingError, BillingErrorCode
from billing.models import LIVE_STATUSES, Customer, PlanPrices, Subscription, SyncStatus
from billing.offers import offer_for_checkout, offer_refusal_after_stripe
from billing.plans import portal_configuration_id
from billing.services import checkout_session_apply, customer_ensure
from core.site import site_url
from membership.models import Entitlement, EntitlementSource, Plan, TrialStatus
from membership.selectors import trial_summary_get
from membership.store_selectors import store_membership_get

logger = logging.getLogger(__name__)

INTERVALS = ("month", "year")
# Stripe refuses a Checkout trial ending less than 48 hours ahead; the margin covers the
# time between deciding here and Stripe receiving the request.
TRIAL_END_MINIMUM = timedelta(hours=48, minutes=5)


@dataclass(frozen=True)
class CheckoutStart:
    """An open Checkout session: where to send the reader, and the trial it carries."""

    session_id: str
    url: str
    trial_end: datetime | None


def _plan_prices(*, plan_slug: str, interval: str) -> tuple[Plan, str]:
    plan = Plan.objects.filter(slug=plan_slug, is_active=True).first()
    if plan is None:
        raise BillingError(
            code=BillingErrorCode.UNKNOWN_PLAN,
            message=f"There is no plan on sale called {plan_slug!r}.",
            status=404,
        )
    prices = PlanPrices.objects.filter(plan=plan).first()
    price_id = prices.price_id(interval) if prices is not None else ""
    if prices is None or prices.status != SyncStatus.SYNCED or not price_id:
        raise BillingError(
            code=BillingErrorCode.PLAN_NOT_SYNCED,
            message=f"{plan.name} is not on sale through Stripe yet. Please try again shortly.",
            status=503,
        )
    return plan, price_id


def checkout_trial_end(*, user: User, plan: Plan, now: datetime) -> datetime | None:
    """Return when the reader's card trial would end, or None when they pay now.

    Never trialled: the plan's trial days. Inside a cardless trial with at least 48 hours
    left: the trial's own end. Anyone else (lapsed, trial nearly over) pays now.
    """
    return checkout_trial_ends(user=user, plans=[plan], now=now)[plan.pk]


def checkout_trial_ends(
    *, user: User | None, plans: Iterable[Plan], now: datetime | None = None
) -> dict[int, datetime | None]:
    """Return, for each plan's id, when the card trial a Checkout opened now would end (as
    ``checkout_trial_end`` decides), or None when the reader would pay at once. An anonymous
    reader is answered as one who never had a trial; a reader on a gift membership keeps
    the rest of it as the trial."""
    moment = now or timezone.now()
    gift_end = _gift_end(user=user, now=moment)
    if gift_end is not None:  # a gift member keeps the gift's days as a free trial
        return {plan.pk: gift_end for plan in plans}
    if user is None or user.trial_used_at is None:
        return {
            plan.pk: moment + timedelta(days=plan.trial_days) if plan.trial_days else None
            for plan in plans
        }
    trial = trial_summary_get(user=user, at=moment)
    running = trial is not None and trial.status == TrialStatus.ACTIVE
    ends_at = trial.ends_at if running and trial else None
    due = ends_at if ends_at and ends_at - moment >= TRIAL_END_MINIMUM else None
    return {plan.pk: due for plan in plans}


def _gift_end(*, user: User | None, now: datetime) -> datetime | None:
    """When the reader's gift membership ends, if it runs long enough to be a Checkout
    trial (48 hours and more)."""
    if user is None:
        return None
    ends = (
        Entitlement.objects.filter(
            user=user, source=EntitlementSource.GIFT, revoked_at__isnull=True, ends_at__gt=now
        )
        .order_by("-ends_at")
        .values_list("ends_at", flat=True)
        .first()
    )
    return ends if ends is not None and ends - now >= TRIAL_END_MINIMUM else None


def _page_url(name: str, query: dict[str, str]) -> str:
    url = site_url(reverse(name))
    return f"{url}?{urlencode(query)}" if query else url


def _seats(plan: Plan, quantity: int | None) -> tuple[int, tuple[int, int] | None]:
    """The seats to open Checkout with, and the bounds the reader may change them within
    there (None: one reader, not adjustable); refuses ``invalid_quantity`` (400)."""
    if not plan.by_seat:
        if quantity not in (None, 1):
            raise BillingError(
                code=BillingErrorCode.INVALID_QUANTITY,
                message=f"{plan.name} is for one reader: it is not sold by seat.",
                status=400,
            )
        return 1, None
    bounds = (plan.min_seats, plan.max_seats)
    chosen = plan.min_seats if quantity is None else quantity
    if not bounds[0] <= chosen <= bounds[1]:
        raise BillingError(
            code=BillingErrorCode.INVALID_QUANTITY,
            message=f"{plan.name} is sold with {bounds[0]} to {bounds[1]} seats.",
            status=400,
        )
    return chosen, bounds


def checkout_start(
    *,
    user: User,
    plan_slug: str,
    interval: str,
    next_url: str = "",
    offer_code: str = "",
    quantity: int | None = None,
) -> CheckoutStart:
    """Open a Checkout session for the reader on the plan, paid every ``interval``, with
    the trial the reader is due; the reader's older open sessions are expired first. A plan
    sold by seat opens with ``quantity`` seats (its fewest by default), which the reader may
    change in Checkout within the plan's bounds.

    Refuses ``already_subscribed`` (409), ``unknown_plan`` (404), ``invalid_quantity`` (400)
    and ``plan_not_synced`` (503). With ``offer_code`` the offer's discount is applied, or
    refused as ``billing.offers`` says (``offer_expired``, ``offer_exhausted``,
    ``offer_not_applicable``, ``offer_not_found``); without one, the reader may type a
    promotion code in Checkout. Stripe sends the reader back to this site's ``SITE_URL``:
    the success page gets ``session_id`` and ``next``, the cancel page ``next``.
    """
    plan, price_id = _plan_prices(plan_slug=plan_slug, interval=interval)
    seats, bounds = _seats(plan, quantity)
    live = Subscription.objects.filter(user=user, status__in=LIVE_STATUSES).exists()
    if live:
        raise BillingError(
            code=BillingErrorCode.ALREADY_SUBSCRIBED,
            message="You already have a subscription. Manage it from your account.",
            status=409,
        )
    offer = offer_for_checkout(code=offer_code, plan=plan, user=user) if offer_code else None
    store = store_membership_get(user=user)
    if store is not None:
        raise BillingError(
            code=BillingErrorCode.ALREADY_SUBSCRIBED,
            message=f"You already subscribe through {store.store_name} ({store.store}). "
            f"Manage your subscription there: {store.manage_url}",
            status=409,
        )
    customer = customer_ensure(user=user)
    expired = stripe_gateway.checkout_sessions_expire_open(customer_id=customer.stripe_id)
    back = {"next": next_url} if next_url else {}
    success_url = _page_url("web:checkout-success", back)
    success_url += ("&" if back else "?") + "session_id={CHECKOUT_SESSION_ID}"
    trial_end = checkout_trial_end(user=user, plan=plan, now=timezone.now())
    try:
        session = stripe_gateway.checkout_session_create(
            user_id=user.pk,
            customer_id=customer.stripe_id,
            price_id=price_id,
            success_url=success_url,
            cancel_url=_page_url("web:checkout-cancel", back),
            trial_end=int(trial_end.timestamp()) if trial_end else None,
            attempt=uuid4().hex,
            promotion_code_id=offer.promotion_code_id if offer else "",
            quantity=seats,
            quantity_bounds=bounds,
        )
    except BillingError as exc:
        if offer is None or exc.code != BillingErrorCode.STRIPE_REFUSED:
            raise
        raise offer_refusal_after_stripe(offer, plan=plan, user=user) from exc
    logger.info(
        "User %s opened Checkout session %s for plan %s (%s), trial until %s; %s older expired",
        user.pk,
        session.id,
        plan.slug,
        interval,
        trial_end,
        expired,
    )
    return CheckoutStart(session_id=session.id, url=session.url, trial_end=trial_end)


def checkout_complete(*, user: User, session_id: str) -> Subscription:
    """Apply the reader's finished Checkout session now, whether or not its webhook came.

    Refuses a session of another reader (``checkout_session_mismatch``, 403) and one not
    finished yet (``checkout_incomplete``, 409); an unknown one is ``stripe_not_found``.
    """
    session = stripe_gateway.checkout_session_retrieve(session_id=session_id)
    if session.client_reference_id != str(user.pk):
        logger.warning("User %s tried to apply Checkout session %s of another", user.pk, session_id)
        raise BillingError(
            code=BillingErrorCode.SESSION_MISMATCH,
            message="This checkout belongs to another account.",
            status=403,
        )
    if not session.is_complete or not session.subscription_id:
        raise BillingError(
            code=BillingErrorCode.CHECKOUT_INCOMPLETE,
            message="This checkout is not finished, so nothing was charged.",
            status=409,
        )
    subscription = checkout_session_apply(session=session)
    logger.info(
        "User %s came back from Checkout session %s: subscription %s is %s",
        user.pk,
        session_id,
        subscription.stripe_id,
        subscription.status,
    )
    return subscription


def portal_open(*, user: User, return_url: str) -> str:
    """Return the address of a Customer Portal session for the reader, which comes back
    to ``return_url``; refuses ``no_billing_account`` (409) to a reader who never paid."""
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        raise BillingError(
            code=BillingErrorCode.NO_CUSTOMER,
            message="You have no billing account yet. Choose a plan to subscribe.",
            status=409,
        )
    session = stripe_gateway.portal_session_create(
        customer_id=customer.stripe_id,
        return_url=return_url,
        attempt=uuid4().hex,
        configuration_id=portal_configuration_id(),
    )
    logger.info("User %s opened Customer Portal session %s", user.pk, session.id)
    return session.url


def plan_switch_open(*, user: User, plan_slug: str, return_url: str) -> str:
    """Return the address of a Customer Portal page where the reader confirms, in one
    step, the switch of their live subscription to the plan (same billing period); after
    it the portal sends them to ``return_url``.

    Refuses ``no_subscription`` (409) to a reader with no live subscription (they choose a
    plan in Checkout instead), ``already_on_plan`` (409), ``unknown_plan`` (404) and
    ``plan_not_synced`` (503).
    """
    subscription = (
        Subscription.objects.filter(user=user, status__in=LIVE_STATUSES)
        .order_by("-synced_at", "-pk")
        .first()
    )
    customer = Customer.objects.filter(user=user).first()
    item_id = subscription.stripe.item_id if subscription else ""
    if subscription is None or customer is None or not item_id:
        raise BillingError(
            code=BillingErrorCode.NO_SUBSCRIPTION,
            message="You have no subscription to change. Choose a plan to subscribe.",
            status=409,
        )
    plan, price_id = _plan_prices(plan_slug=plan_slug, interval=subscription.interval)
    if subscription.plan_id == plan.pk or subscription.price_id == price_id:
        raise BillingError(
            code=BillingErrorCode.SAME_PLAN,
            message=f"You are already on {plan.name}.",
            status=409,
        )
    session = stripe_gateway.portal_switch_session_create(
        customer_id=customer.stripe_id,
        subscription_id=subscription.stripe_id,
        item_id=item_id,
        price_id=price_id,
        return_url=return_url,
        attempt=uuid4().hex,
        configuration_id=portal_configuration_id(),
    )
    logger.info(
        "User %s opened a portal switch of subscription %s to plan %s (session %s)",
        user.pk,
        subscription.stripe_id,
        plan.slug,
        session.id,
    )
    return session.url
