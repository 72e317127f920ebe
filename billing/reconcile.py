"""Bring Masthead back in step with Stripe: repair subscriptions that drifted (a lost or
misapplied event, a change made at Stripe), and apply stored events again."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from billing import events, services, stripe_gateway
from billing.errors import BillingError, BillingErrorCode
from billing.models import ENDED_STATUSES, Subscription, WebhookEvent, WebhookEventStatus
from billing.stripe_gateway import StripeSubscription

logger = logging.getLogger(__name__)


@dataclass
class Drift:
    """How Masthead's copy of one subscription differed from Stripe's."""

    stripe_id: str
    user_id: int | None
    changes: list[str]


@dataclass
class ReconcileReport:
    """What a reconciliation found and did."""

    checked: int = 0
    repaired: list[Drift] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def in_step(self) -> bool:
        return not (self.repaired or self.created or self.missing or self.failed)

    def lines(self) -> list[str]:
        """Return the report as lines of text, the summary first."""
        lines = [
            f"{self.checked} subscriptions checked at Stripe: {len(self.repaired)} repaired, "
            f"{len(self.created)} added, {len(self.missing)} missing at Stripe, "
            f"{len(self.failed)} failed."
        ]
        lines += [
            f"repaired {d.stripe_id} (user {d.user_id}): {'; '.join(d.changes)}"
            for d in self.repaired
        ]
        lines += [f"added {stripe_id}, which Masthead did not have" for stripe_id in self.created]
        lines += [f"missing {stripe_id}: Stripe no longer has it" for stripe_id in self.missing]
        lines += [f"failed {stripe_id}: {error}" for stripe_id, error in self.failed]
        return lines


def _stripe_state(stripe: StripeSubscription) -> dict[str, Any]:
    return {
        "status": stripe.status,
        "period end": stripe.current_period_end,
        "cancel_at": stripe.cancel_at,
        "cancel_at_period_end": stripe.cancel_at_period_end,
        "price": stripe.price.id,
    }


def _row_state(row: Subscription) -> dict[str, Any]:
    return {
        "status": row.status,
        "period end": row.current_period_end,
        "cancel_at": row.cancel_at,
        "cancel_at_period_end": row.cancel_at_period_end,
        "price": row.price_id,
    }


def subscription_drift(*, row: Subscription, stripe: StripeSubscription) -> list[str]:
    """Return what differs between Masthead's row and Stripe's subscription, as
    "<what>: <masthead> -> <stripe>" (empty when they agree)."""
    ours, theirs = _row_state(row), _stripe_state(stripe)
    return [f"{key}: {ours[key]} -> {theirs[key]}" for key in ours if ours[key] != theirs[key]]


def _repair(report: ReconcileReport, row: Subscription, stripe: StripeSubscription) -> None:
    changes = subscription_drift(row=row, stripe=stripe)
    if not changes:
        return
    try:
        services.subscription_sync(subscription_id=row.stripe_id)
    except BillingError as exc:
        report.failed.append((row.stripe_id, exc.message))
        return
    report.repaired.append(Drift(stripe_id=row.stripe_id, user_id=row.user_id, changes=changes))
    logger.warning(
        "Reconciled subscription %s of user %s: %s", row.stripe_id, row.user_id, "; ".join(changes)
    )


def _add(report: ReconcileReport, stripe: StripeSubscription) -> None:
    # Only a live one on a Masthead plan's price (its metadata names the plan).
    if stripe.status in ENDED_STATUSES or not stripe.price.plan_ref:
        return
    try:
        services.subscription_sync(subscription_id=stripe.id)
    except BillingError as exc:
        report.failed.append((stripe.id, exc.message))
        return
    report.created.append(stripe.id)
    logger.warning("Reconciled subscription %s, which Masthead did not have", stripe.id)


def _unlisted_check(report: ReconcileReport, row: Subscription) -> None:
    """A row the listing did not name: fetch it by id, or note that Stripe lost it."""
    try:
        stripe = stripe_gateway.subscription_retrieve(subscription_id=row.stripe_id)
    except BillingError as exc:
        if exc.code == BillingErrorCode.NOT_FOUND:
            report.missing.append(row.stripe_id)
            logger.warning(
                "Subscription %s of user %s is not at Stripe any more", row.stripe_id, row.user_id
            )
        else:
            report.failed.append((row.stripe_id, exc.message))
        return
    _repair(report, row, stripe)


def subscriptions_reconcile(
    *, on_checked: Callable[[str], object] | None = None
) -> ReconcileReport:
    """Compare every subscription at Stripe (canceled ones too) with Masthead's copy, repair
    each that drifted through the sync service (the reader's access follows), add the live
    ones Masthead lacks, note rows Stripe no longer has, and report it all.

    Call outside any transaction: it talks to Stripe. ``on_checked`` is called with each
    subscription id as it is checked (for a progress bar).
    """
    report = ReconcileReport()
    rows = {row.stripe_id: row for row in Subscription.objects.all()}
    seen: set[str] = set()
    for stripe in stripe_gateway.subscriptions_iter():
        report.checked += 1
        seen.add(stripe.id)
        row = rows.get(stripe.id)
        if row is None:
            _add(report, stripe)
        else:
            _repair(report, row, stripe)
        if on_checked is not None:
            on_checked(stripe.id)
    for stripe_id in rows.keys() - seen:
        report.checked += 1
        _unlisted_check(report, rows[stripe_id])
        if on_checked is not None:
            on_checked(stripe_id)
    logger.info("Reconciliation with Stripe: %s", report.lines()[0])
    return report


# Stored events ---------------------------------------------------------------------------


def webhook_events_for_replay(
    *,
    status: str = WebhookEventStatus.FAILED,
    types: list[str] | None = None,
    stripe_ids: list[str] | None = None,
) -> list[int]:
    """Return the stored events to apply again: with ``stripe_ids``, those events (when not
    finished); otherwise those in ``status``, of ``types`` if given; oldest first."""
    rows = WebhookEvent.objects.exclude(status__in=events.FINISHED)
    rows = rows.filter(stripe_id__in=stripe_ids) if stripe_ids else rows.filter(status=status)
    if types:
        rows = rows.filter(type__in=types)
    return list(rows.order_by("received_at", "pk").values_list("pk", flat=True))


def webhook_events_reapply(
    *, event_ids: list[int], on_applied: Callable[[int, str], object] | None = None
) -> dict[str, int]:
    """Apply the stored events again, here and now, one by one; return how many ended in
    each status. A failure is recorded on its event and does not stop the others."""
    events.webhook_events_replay(event_ids=event_ids)
    outcomes: dict[str, int] = {}
    for event_id in event_ids:
        try:
            outcome = events.webhook_event_process(event_id=event_id)
        except Exception:  # recorded on the event row as failed, with the error
            outcome = WebhookEventStatus.FAILED
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if on_applied is not None:
            on_applied(event_id, outcome)
    return outcomes
