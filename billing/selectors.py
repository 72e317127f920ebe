"""Billing reads: a reader's subscription as the reader sees it."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse

from accounts.models import User
from billing.models import (
    CURRENT_STATUSES,
    LIVE_STATUSES,
    PAST_DUE_STATUSES,
    Customer,
    Subscription,
    SubscriptionStatus,
)
from membership.models import Plan


@dataclass(frozen=True)
class PaymentProblem:
    """A payment that failed, since when, and where the reader puts it right.

    ``fix_url`` is the hosted invoice page when the bank asks the reader to confirm the
    payment, otherwise the portal endpoint (POST it for the portal's address)."""

    since: datetime
    needs_authentication: bool
    fix_url: str
    fix_method: str


@dataclass(frozen=True)
class DiscountSummary:
    """A discount on the subscription: in words, and when it stops applying."""

    name: str
    description: str
    duration: str  # once, repeating, forever
    ends_at: datetime | None  # None: forever, or (once) after the next payment


@dataclass(frozen=True)
class SubscriptionSummary:
    """A reader's subscription: plan, billing period, state and the dates that matter."""

    plan: Plan | None
    interval: str
    status: str
    trial_end: datetime | None
    renews_at: datetime | None
    ends_at: datetime | None
    payment_problem: PaymentProblem | None
    discount: DiscountSummary | None = None


def subscription_current_get(*, user: User) -> Subscription | None:
    """Return the reader's current subscription with its plan: a live one first, else one
    that is unpaid or paused; None when every one has ended (or there never was one)."""
    live_first = Case(
        When(status__in=LIVE_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        Subscription.objects.filter(user=user, status__in=CURRENT_STATUSES)
        .select_related("plan")
        .order_by(live_first, "-synced_at", "-pk")
        .first()
    )


def _payment_problem(subscription: Subscription) -> PaymentProblem | None:
    if subscription.status not in PAST_DUE_STATUSES:
        return None
    since = subscription.payment_failed_at or subscription.synced_at
    if subscription.needs_authentication and subscription.hosted_invoice_url:
        return PaymentProblem(since, True, subscription.hosted_invoice_url, "GET")
    return PaymentProblem(since, False, reverse("billing:portal"), "POST")


def _ends_at(subscription: Subscription) -> datetime | None:
    if subscription.cancel_at is not None:
        return subscription.cancel_at
    return subscription.current_period_end if subscription.cancel_at_period_end else None


def subscription_summary(*, subscription: Subscription) -> SubscriptionSummary:
    """Summarise a subscription: it renews at its period's end unless it is ending, when
    ``ends_at`` says when it stops (``cancel_at``, else the period's end)."""
    renews = subscription.status in LIVE_STATUSES and not subscription.is_ending
    trialing = subscription.status == SubscriptionStatus.TRIALING
    return SubscriptionSummary(
        plan=subscription.plan,
        interval=subscription.interval,
        status=subscription.status,
        trial_end=subscription.trial_end if trialing else None,
        renews_at=subscription.current_period_end if renews else None,
        ends_at=_ends_at(subscription),
        payment_problem=_payment_problem(subscription),
        discount=_discount(subscription),
    )


def _discount(subscription: Subscription) -> DiscountSummary | None:
    found = subscription.stripe.discounts
    if not found:
        return None
    d = found[0]
    if d.percent_off is not None:
        what = f"{d.percent_off:g}% off"
    else:
        what = f"{(d.amount_off or 0) / 100:.2f} {d.currency.upper()} off"
    if d.duration == "forever":
        words = f"{what} every payment"
    elif d.duration == "repeating":
        words = f"{what} each payment until {d.end:%d %B %Y}" if d.end else f"{what} each payment"
    else:
        words = f"{what} the next payment"
    return DiscountSummary(name=d.name, description=words, duration=d.duration, ends_at=d.end)


def subscription_summary_get(*, user: User) -> SubscriptionSummary | None:
    """Return the summary of the reader's current subscription, or None (one query)."""
    subscription = subscription_current_get(user=user)
    return None if subscription is None else subscription_summary(subscription=subscription)


def billing_account_exists(*, user: User) -> bool:
    """Whether the reader has a Stripe customer, so the Customer Portal can open."""
    return Customer.objects.filter(user=user).exists()
