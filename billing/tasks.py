"""Celery tasks for billing: apply stored Stripe events, re-drive the ones left behind, push
plans to Stripe, reconcile subscriptions with Stripe."""

import logging

from celery import Task, shared_task

from billing import credit_packs, events, plans, reconcile
from billing.errors import BillingError, BillingErrorCode
from billing.models import CreditPack, SyncStatus
from core.redrive import rows_requeue
from membership.models import Plan

logger = logging.getLogger(__name__)

APPLY_MAX_RETRIES = 8


@shared_task(bind=True, max_retries=APPLY_MAX_RETRIES, acks_late=True, reject_on_worker_lost=True)
def webhook_event_apply(self: Task, event_id: int) -> str:
    """Apply one stored Stripe event; on failure retry with back-off, then leave it failed.

    A message delivered again (its worker's connection dropped, or its pool process died)
    takes over nothing while a worker holds the event's lease: it comes back when the lease
    ends, and then finds the event applied, or takes over the event its dead holder left. The
    beat re-drive does the same for an event whose message was lost."""
    try:
        outcome = events.webhook_event_process(event_id=event_id)
    except Exception as exc:
        if self.request.retries >= APPLY_MAX_RETRIES:
            logger.error(
                "Stripe event row %s stays failed after %s tries",
                event_id,
                self.request.retries + 1,
            )
            raise
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 600)) from exc
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    retries = self.request.retries
    if outcome == "held" and (redelivered or retries) and retries < APPLY_MAX_RETRIES:
        left = events.webhook_event_lease_left(event_id=event_id)
        logger.info("Stripe event row %s is held by another worker; back in %.0fs", event_id, left)
        raise self.retry(countdown=left + 1)
    return outcome


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
