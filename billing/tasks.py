"""Celery tasks for billing: apply stored Stripe events, re-drive the ones left behind, push
plans to Stripe, reconcile subscriptions with Stripe."""

import logging

from celery import Task, shared_task
from kombu.exceptions import OperationalError as BrokerError

from billing import credit_packs, event_drain, events, nudges, offers, plans, reconcile
from billing.errors import BillingError, BillingErrorCode
from billing.models import CreditPack, Offer, SyncStatus
from core.redrive import rows_requeue
from membership.models import Plan

logger = logging.getLogger(__name__)

APPLY_MAX_RETRIES = 8


@shared_task(bind=True, max_retries=APPLY_MAX_RETRIES, acks_late=True, reject_on_worker_lost=True)
def webhook_event_apply(self: Task, event_id: int) -> str:
    """Apply one stored Stripe event, then every stored event waiting (the nudge of a
    burst: ``billing.nudges``); on the event's failure retry it with back-off, then leave it
    failed. Returns what became of the event itself.

    A message delivered again (its worker's connection dropped, or its pool process died)
    takes over nothing while a worker holds the event's lease: it comes back when the lease
    ends, and then finds the event applied, or takes over the event its dead holder left. The
    beat re-drive does the same for an event whose message was lost."""
    nudges.nudge_taken()
    try:
        outcome = events.webhook_event_process(event_id=event_id)
    except Exception as exc:
        _drain()
        if self.request.retries >= APPLY_MAX_RETRIES:
            logger.error(
                "Stripe event row %s stays failed after %s tries",
                event_id,
                self.request.retries + 1,
            )
            raise
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    _drain()
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    retries = self.request.retries
    if outcome == "held" and (redelivered or retries) and retries < APPLY_MAX_RETRIES:
        left = events.webhook_event_lease_left(event_id=event_id)
        logger.info("Stripe event row %s is held by another worker; back in %.0fs", event_id, left)
        raise self.retry(countdown=left + 1)
    return outcome


def _backoff(retries: int) -> int:
    return int(min(2**retries * 5, 600))


def _drain() -> int:
    """Apply the stored events waiting and return how many; wake another worker when the
    backlog is large, queue a retry of each event that failed, and a fresh nudge when the
    drain stopped with events still waiting."""
    drained = event_drain.webhook_events_drain(on_backlog=_wake_another)
    try:
        for event_id in drained.failed:
            webhook_event_apply.apply_async((event_id,), countdown=_backoff(0))
        if drained.more_waiting and nudges.nudge_claim():
            webhook_events_drain.delay()
    except BrokerError:  # the rows are stored: the re-drive or a replay takes them up
        nudges.nudge_taken()
        logger.warning("Broker unavailable; the drain's follow-up waits for the re-drive")
    return drained.applied


def _wake_another() -> None:
    """A backlog: queue a drain for another worker, unless a nudge is pending already."""
    if nudges.nudge_claim():
        try:
            webhook_events_drain.delay()
        except BrokerError:
            nudges.nudge_taken()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhook_events_drain() -> int:
    """Apply the stored Stripe events waiting (a nudge with no event of its own)."""
    nudges.nudge_taken()
    return _drain()


@shared_task
def webhook_events_redrive() -> int:
    """Queue again the events never applied (broker down, worker killed) or stuck."""
    return rows_requeue(
        task=webhook_event_apply, row_ids=events.webhook_events_pending_ids(), what="Stripe events"
    )


PLAN_PUSH_MAX_RETRIES = 5


@shared_task(bind=True, max_retries=PLAN_PUSH_MAX_RETRIES)
def plan_push(self: Task, plan_id: int) -> str:
    """Push one plan to Stripe; retry while Stripe is unreachable, not when it refuses (the
    refusal is shown on the plan)."""
    try:
        return plans.plan_push(plan_id=plan_id).status
    except Plan.DoesNotExist:
        logger.info("Plan %s was deleted before its push to Stripe; nothing pushed", plan_id)
        return "deleted"
    except BillingError as exc:
        if exc.code != BillingErrorCode.STRIPE_UNAVAILABLE:
            return SyncStatus.FAILED
        if self.request.retries >= PLAN_PUSH_MAX_RETRIES:
            logger.error("Plan %s stays unsynced: Stripe unreachable", plan_id)
            return SyncStatus.FAILED
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 30, 900)) from exc


@shared_task
def billing_reconcile() -> int:
    """Repair subscriptions that drifted from Stripe and log the report; return how many
    were repaired or added."""
    report = reconcile.subscriptions_reconcile()
    for line in report.lines():
        logger.info("Reconciliation: %s", line)
    return len(report.repaired) + len(report.created)


@shared_task(bind=True, max_retries=PLAN_PUSH_MAX_RETRIES)
def offer_push(self: Task, offer_id: int) -> str:
    """Push one offer to Stripe (coupon and promotion code); retry while Stripe is
    unreachable, not when it refuses (the refusal is shown on the offer)."""
    try:
        return offers.offer_push(offer_id=offer_id).status
    except Offer.DoesNotExist:
        return "deleted"
    except BillingError as exc:
        if exc.code != BillingErrorCode.STRIPE_UNAVAILABLE:
            return SyncStatus.FAILED
        if self.request.retries >= PLAN_PUSH_MAX_RETRIES:
            return SyncStatus.FAILED
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 30, 900)) from exc


@shared_task(bind=True, max_retries=PLAN_PUSH_MAX_RETRIES)
def credit_pack_push(self: Task, pack_id: int) -> str:
    """Push one credit pack to Stripe; retry while Stripe is unreachable, not when it
    refuses (the refusal is shown on the pack)."""
    try:
        return credit_packs.credit_pack_push(pack_id=pack_id).status
    except CreditPack.DoesNotExist:
        return "deleted"
    except BillingError as exc:
        if exc.code != BillingErrorCode.STRIPE_UNAVAILABLE:
            return SyncStatus.FAILED
        if self.request.retries >= PLAN_PUSH_MAX_RETRIES:
            return SyncStatus.FAILED
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 30, 900)) from exc
