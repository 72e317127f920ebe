"""Billing writes: Stripe customers, and subscriptions mirrored into entitlements."""

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway
from billing.errors import BillingError
from billing.models import (
    LIVE_STATUSES,
    PAST_DUE_STATUSES,
    PAYING_STATUSES,
    STOPPED_STATUSES,
    Customer,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
)
from billing.stripe_gateway import StripeCheckoutSession, StripeSubscription
from core.db import row_insert_unless_stored, row_unique
from core.errors import ApplicationError
from groups.services import group_follow
from membership.models import EntitlementSource, Plan, TrialKind
from membership.services import (
    entitlement_sync,
    reader_payment_issue_set,
    trial_claim,
    trial_end_early,
)

logger = logging.getLogger(__name__)


def customer_ensure(*, user: User) -> Customer:
    """Return the reader's Stripe customer, creating it at Stripe the first time."""
    existing = Customer.objects.filter(user=user).first()
    if existing is not None:
        return existing
    created = stripe_gateway.customer_create(user_id=user.pk, email=user.email)
    customer, _ = Customer.objects.get_or_create(stripe_id=created.id, defaults={"user": user})
    logger.info("Stripe customer %s belongs to user %s", customer.stripe_id, user.pk)
    return customer


def _user_of(stripe: StripeSubscription) -> User | None:
    customer = Customer.objects.filter(stripe_id=stripe.customer_id).select_related("user")
    found = row_unique(customer)
    if found is not None and found.user is not None:
        return found.user
    if stripe.user_id is not None:
        return User.objects.filter(pk=stripe.user_id).first()
    return None


def _plan_of(stripe: StripeSubscription) -> Plan | None:
    plan_id = stripe.price.plan_id
    return row_unique(Plan.objects.filter(pk=plan_id)) if plan_id is not None else None


def _failure_moment(stripe: StripeSubscription, fetched_at: datetime) -> datetime | None:
    """When the unpaid invoice first failed: its finalisation, else when we saw it."""
    if stripe.status not in PAST_DUE_STATUSES:
        return None
    invoice = stripe.latest_invoice
    return (invoice.issued_at if invoice is not None else None) or fetched_at


def _fields(stripe: StripeSubscription) -> dict[str, object]:
    invoice = stripe.latest_invoice
    open_invoice = invoice if invoice is not None and invoice.is_open else None
    return {
        "customer_stripe_id": stripe.customer_id,
        "price_id": stripe.price.id,
        "plan": _plan_of(stripe),
        "interval": stripe.price.interval,
        "status": stripe.status,
        "current_period_end": stripe.current_period_end,
        "trial_end": stripe.trial_end,
        "cancel_at": stripe.cancel_at,
        "cancel_at_period_end": stripe.cancel_at_period_end,
        "ended_at": stripe.ended_at,
        "open_invoice_id": open_invoice.id if open_invoice else "",
        "hosted_invoice_url": open_invoice.hosted_invoice_url if open_invoice else "",
        "data": stripe.data,
    }


def subscription_access_until(subscription: Subscription) -> datetime | None:
    """Return when the subscription's access ends, or None when it gives none now.

    Trialing and active: the period's end plus a small leeway for the renewal; past due:
    ``BILLING_GRACE_DAYS`` after the first failed payment; an ending subscription stops at
    its moment (``cancel_at``, or the period's end with ``cancel_at_period_end``).
    """
    if subscription.status not in LIVE_STATUSES or subscription.current_period_end is None:
        return None
    leeway = timedelta(hours=settings.BILLING_RENEWAL_LEEWAY_HOURS)
    end = subscription.current_period_end + leeway
    if subscription.status == SubscriptionStatus.PAST_DUE:
        failed = subscription.payment_failed_at or timezone.now()
        end = min(end, failed + timedelta(days=settings.BILLING_GRACE_DAYS))
    if subscription.cancel_at_period_end:
        end = min(end, subscription.current_period_end)
    if subscription.cancel_at is not None:
        end = min(end, subscription.cancel_at)
    return end


def _access_apply(subscription: Subscription, stripe: StripeSubscription) -> None:
    """Bring the reader's entitlement and payment-issue flag in line with the subscription,
    and point the subscription at the entitlement (the caller saves it)."""
    user = subscription.user
    if user is None:
        return
    plan = subscription.plan
    titles = None if plan is None or plan.all_titles else list(plan.titles.all())
    subscription.entitlement = entitlement_sync(
        user=user,
        source=EntitlementSource.SUBSCRIPTION,
        reference=subscription.stripe_id,
        ends_at=subscription_access_until(subscription),
        titles=titles,
    )
    group_follow(
        owner=user,
        reference=subscription.stripe_id,
        plan=plan,
        seats=stripe.quantity,
        owner_entitlement=subscription.entitlement,
    )
    troubled = subscription.status in PAST_DUE_STATUSES
    reader_payment_issue_set(user=user, since=subscription.payment_failed_at if troubled else None)
    _trial_over_apply(subscription, user, began=stripe.started_at)


def _trial_over_apply(subscription: Subscription, user: User, *, began: datetime | None) -> None:
    """Close the reader's trial at the moment Stripe's subscription shows it over before its
    end: ``trial_end`` moved to now, or the reader paid while in a (cardless) trial; a
    subscription that stopped during its trial closes the card trial it carried."""
    if user.trial_used_at is None:  # never had a trial: nothing to close
        return
    now = timezone.now()
    if subscription.status in PAYING_STATUSES and subscription.trial_end is not None:
        # Its own trial ended at ``trial_end`` (Stripe's second: the trial may have begun
        # within it).
        trial_end_early(user=user, at=min(subscription.trial_end, now), begun_by=now)
    elif subscription.status in PAYING_STATUSES:
        # No trial at Stripe: the reader paid at the start, while in their trial (if any).
        trial_end_early(user=user, at=min(began or now, now))
    elif subscription.status in STOPPED_STATUSES and subscription.trial_end is not None:
        ended = min(subscription.ended_at or now, now)
        trial_end_early(user=user, at=ended, begun_by=now, kinds=[TrialKind.CARD])


def _subscriptions_for_update() -> QuerySet[Subscription]:
    """Subscriptions whose rows stay locked until the transaction ends; each comes with its
    reader (joined in one query, not locked)."""
    return Subscription.objects.select_for_update(of=("self",)).select_related("user")


# The ``synced_at`` of a subscription row written only to be locked: any fetch is newer.
NEVER_SYNCED = datetime(1970, 1, 1, tzinfo=UTC)


def _subscription_for_update(stripe_id: str) -> Subscription:
    """Return the subscription's row locked until the transaction ends, inserting a blank
    one (never synced) when Masthead has none yet.

    Every writer of a subscription and of the access it gives holds this lock first, so two
    callers applying a new subscription at once take turns: the second waits for the
    first's row and then sees it, instead of granting access of its own."""
    found = row_unique(_subscriptions_for_update().filter(stripe_id=stripe_id))
    if found is not None:
        return found
    inserted = _subscription_insert_blank(stripe_id)
    if inserted is not None:
        return inserted
    # Stored by a concurrent caller a moment ago: wait for its lock.
    logger.info("Subscription %s was stored meanwhile; applying on that row", stripe_id)
    return _subscriptions_for_update().get(stripe_id=stripe_id)


def _subscription_insert_blank(stripe_id: str) -> Subscription | None:
    """Insert a blank row (never synced) for the subscription and return it, locked until
    the transaction ends, or return None when a row for it is stored already. A duplicate
    is no error (``INSERT … ON CONFLICT DO NOTHING``), so no savepoint is needed: two
    statements fewer on every new subscription."""
    blank = Subscription(
        stripe_id=stripe_id, status=SubscriptionStatus.INCOMPLETE, synced_at=NEVER_SYNCED
    )
    return blank if row_insert_unless_stored(row=blank, unique="stripe_id") else None


@transaction.atomic
def subscription_apply(
    *, stripe: StripeSubscription, fetched_at: datetime, covers_events_upto: int = 0
) -> Subscription:
    """Write Stripe's state of a subscription, fetched at ``fetched_at`` once the webhook
    events up to row ``covers_events_upto`` were stored, and the reader's access that
    follows from it; a state older than the one stored is dropped. Callers applying one
    subscription at once take turns on its row, so its reader never gets two grants."""
    stripe_id = stripe.id
    subscription = _subscription_for_update(stripe_id)
    if subscription.synced_at >= fetched_at:
        logger.info("Dropped an older state of subscription %s", stripe_id)
        return subscription
    fields = {**_fields(stripe), "covers_events_upto": covers_events_upto}
    for name, value in fields.items():
        setattr(subscription, name, value)
    subscription.user = subscription.user or _user_of(stripe)
    subscription.synced_at = fetched_at
    failure = _failure_moment(stripe, fetched_at)
    subscription.payment_failed_at = (
        (subscription.payment_failed_at or failure) if failure else None
    )
    _access_apply(subscription, stripe)
    subscription.save()
    logger.info(
        "Subscription %s of user %s is %s; access until %s",
        stripe_id,
        subscription.user_id,
        subscription.status,
        subscription.entitlement.ends_at if subscription.entitlement else None,
    )
    return subscription


def _covers(subscription_id: str, event_row_id: int) -> bool:
    """Whether the stored subscription's state already shows the event (see the model).
    Asked for nearly every webhook event: one short statement, a third of a queryset's cost."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM billing_subscription WHERE stripe_id = %s AND covers_events_upto >= %s",
            [subscription_id, event_row_id],
        )
        return cursor.fetchone() is not None


def _turn_key(subscription_id: str) -> int:
    digest = hashlib.blake2b(subscription_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _fetch_turn(subscription_id: str) -> Iterator[bool]:
    """On PostgreSQL, let one worker at a time fetch a given subscription: the others wait
    (a session advisory lock, gone with the connection if the worker dies) and then mostly
    find their event covered. Yields whether this worker had to wait for its turn (so the
    stored state may have moved on). Elsewhere (SQLite: one machine) each fetches at once."""
    if connection.vendor != "postgresql":
        yield False
        return
    key = _turn_key(subscription_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        waited = not cursor.fetchone()[0]
        if waited:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield waited
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _fetch_and_apply(subscription_id: str, stored_upto: int | None = None) -> Subscription:
    # Read before the fetch: every event stored by now happened at Stripe before it.
    if stored_upto is None:
        stored_upto = WebhookEvent.objects.aggregate(newest=Max("pk"))["newest"] or 0
    fetched_at = timezone.now()
    stripe = stripe_gateway.subscription_retrieve(subscription_id=subscription_id)
    return subscription_apply(stripe=stripe, fetched_at=fetched_at, covers_events_upto=stored_upto)


def _event_refresh(subscription_id: str, event_row_id: int) -> Subscription | None:
    """Fetch and apply the subscription's newest state unless the stored state already
    shows webhook event row ``event_row_id``; return it when fetched, None when not.

    A burst of events for one subscription (created, invoice paid, updated) costs one
    fetch, not one each, even when several workers take them at once."""
    if connection.vendor == "postgresql":
        return _event_refresh_postgresql(subscription_id, event_row_id)
    if not _covers(subscription_id, event_row_id):
        with _fetch_turn(subscription_id) as waited:
            if not (waited and _covers(subscription_id, event_row_id)):
                return _fetch_and_apply(subscription_id)
    logger.info("Subscription %s already shows webhook event row %s", subscription_id, event_row_id)
    return None


# Whether the stored state covers the event; if not, the fetch turn taken without waiting
# when it is free, and the newest stored event row: one statement, not three.
_COVERED_OR_TURN_SQL = """
    SELECT c.covered,
        CASE WHEN c.covered THEN NULL ELSE pg_try_advisory_lock(%s) END,
        CASE WHEN c.covered THEN NULL ELSE (SELECT max(id) FROM billing_webhookevent) END
    FROM (
        SELECT EXISTS (
            SELECT 1 FROM billing_subscription WHERE stripe_id = %s AND covers_events_upto >= %s
        ) AS covered
    ) AS c
"""


def _event_refresh_postgresql(subscription_id: str, event_row_id: int) -> Subscription | None:
    """``_event_refresh`` on PostgreSQL, where the coverage check, a free fetch turn and the
    newest stored row are one statement; a worker that must wait for its turn asks again."""
    key = _turn_key(subscription_id)
    with connection.cursor() as cursor:
        cursor.execute(_COVERED_OR_TURN_SQL, [key, subscription_id, event_row_id])
        covered, turn, stored_upto = cursor.fetchone()
        if not (covered or turn):
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    if covered:
        logger.info(
            "Subscription %s already shows webhook event row %s", subscription_id, event_row_id
        )
        return None
    try:
        if turn:
            return _fetch_and_apply(subscription_id, stored_upto=stored_upto or 0)
        if not _covers(subscription_id, event_row_id):  # waited: the state may have moved on
            return _fetch_and_apply(subscription_id)
        logger.info(
            "Subscription %s already shows webhook event row %s", subscription_id, event_row_id
        )
        return None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def subscription_sync(*, subscription_id: str, event_row_id: int | None = None) -> Subscription:
    """Bring the stored subscription and its reader's access in line with Stripe's newest
    state, and return it; the one way in for every caller (call outside any transaction:
    the fetch is a network call).

    With ``event_row_id`` (a webhook event about it), Stripe is asked only when the stored
    state is older than that event. Without it (the Checkout success page, reconciliation,
    Masthead's own changes) Stripe is always asked, in the same per-subscription turn the
    webhook workers take.
    """
    if event_row_id is None:
        with _fetch_turn(subscription_id):
            return _fetch_and_apply(subscription_id)
    fetched = _event_refresh(subscription_id, event_row_id)
    stored = Subscription.objects.select_related("user", "plan")  # what the emails show
    return fetched or stored.get(stripe_id=subscription_id)


def subscription_event_refresh(*, subscription_id: str, event_row_id: int) -> None:
    """Bring the stored subscription in line with Stripe's newest state unless it already
    shows webhook event row ``event_row_id``, as ``subscription_sync`` does, for a handler
    that needs nothing back: an event already shown costs one short statement."""
    _event_refresh(subscription_id, event_row_id)


def customer_forget(*, stripe_id: str) -> None:
    """Unlink a customer deleted at Stripe; the reader gets a new one when next needed."""
    Customer.objects.filter(stripe_id=stripe_id).delete()
    logger.info("Forgot Stripe customer %s, deleted at Stripe", stripe_id)


def _card_trial_claim(subscription: Subscription) -> None:
    """A subscription that starts with a trial spends the reader's one trial allowance."""
    user = subscription.user
    if user is None or subscription.trial_end is None or user.trial_used_at is not None:
        return
    try:
        trial_claim(
            user=user,
            kind=TrialKind.CARD,
            starts_at=timezone.now(),
            ends_at=subscription.trial_end,
        )
    except ApplicationError:
        logger.info("User %s had their trial already; card trial not claimed again", user.pk)


def _duplicate_cancel(subscription: Subscription) -> bool:
    """Cancel and refund a reader's live subscription when an older one is live too (the
    oldest is kept, so applying either checkout again never cancels both); True if it was."""
    if subscription.user is None or subscription.status not in LIVE_STATUSES:
        return False
    others = Subscription.objects.filter(user=subscription.user, status__in=LIVE_STATUSES)
    # Stripe's creation second, then the order Masthead first recorded them (ids are random).
    stripe = subscription.stripe
    mine = (stripe.created, subscription.pk)
    if not any(
        (other.stripe.created, other.pk) < mine for other in others.exclude(pk=subscription.pk)
    ):
        return False
    logger.warning(
        "User %s has a second live subscription %s; cancelling and refunding it",
        subscription.user_id,
        subscription.stripe_id,
    )
    if stripe.latest_invoice_id:
        for payment_intent in stripe_gateway.invoice_payment_intent_ids(
            invoice_id=stripe.latest_invoice_id
        ):
            stripe_gateway.refund_create(payment_intent_id=payment_intent, reason="duplicate")
    stripe_gateway.subscription_cancel(subscription_id=subscription.stripe_id)
    subscription_sync(subscription_id=subscription.stripe_id)
    return True


def checkout_session_apply(*, session: StripeCheckoutSession) -> Subscription:
    """Apply a completed Checkout session: link the customer to the reader, mirror the
    subscription and its access. Safe to call from the webhook and the success page alike.

    It always fetches: the customer it links may be what the stored state lacked."""
    user_id = session.user_id
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    if user is not None and session.customer_id:
        Customer.objects.get_or_create(stripe_id=session.customer_id, defaults={"user": user})
    subscription = subscription_sync(subscription_id=session.subscription_id)
    if not _duplicate_cancel(subscription):
        _card_trial_claim(subscription)
    return subscription


def subscription_payment_retry(*, subscription: Subscription) -> Subscription:
    """Pay the subscription's open invoice now with its new card, rather than wait for
    Stripe's next retry; a refused card leaves it as it was."""
    payment_method = subscription.stripe.default_payment_method_id
    troubled = subscription.status in PAST_DUE_STATUSES
    if not (troubled and subscription.open_invoice_id and payment_method):
        return subscription
    try:
        stripe_gateway.invoice_pay(
            invoice_id=subscription.open_invoice_id, payment_method_id=payment_method
        )
    except BillingError as exc:
        logger.info(
            "Paying invoice %s of subscription %s with the new card failed: %s",
            subscription.open_invoice_id,
            subscription.stripe_id,
            exc.code,
        )
        return subscription
    logger.info(
        "Paid invoice %s of subscription %s with the reader's new card",
        subscription.open_invoice_id,
        subscription.stripe_id,
    )
    return subscription_sync(subscription_id=subscription.stripe_id)


def subscription_authentication_note(*, subscription: Subscription, invoice_id: str) -> None:
    """Record that the open invoice ``invoice_id`` waits for the reader's bank to confirm."""
    Subscription.objects.filter(pk=subscription.pk).update(authentication_invoice_id=invoice_id)
    subscription.authentication_invoice_id = invoice_id
