"""Celery tasks of the app stores: apply stored notifications, re-drive the ones left
behind, reconcile store subscriptions nightly."""

import logging

from celery import Task, shared_task

from appstores import notifications, reconcile
from core.redrive import rows_requeue

logger = logging.getLogger(__name__)

APPLY_MAX_RETRIES = 8


@shared_task(bind=True, max_retries=APPLY_MAX_RETRIES, acks_late=True, reject_on_worker_lost=True)
def store_notification_apply(self: Task, notification_id: int) -> str:
    """Apply one stored store notification; on failure retry with back-off, then leave it
    failed (the admin can replay it)."""
    try:
        return notifications.store_notification_process(notification_id=notification_id)
    except Exception as exc:
        if self.request.retries >= APPLY_MAX_RETRIES:
            logger.error("Store notification row %s stays failed", notification_id)
            raise
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 600)) from exc


@shared_task
def store_notifications_redrive() -> int:
    """Queue again the notifications never applied (broker down, worker killed) or stuck."""
    return rows_requeue(
        task=store_notification_apply,
        row_ids=notifications.store_notifications_pending_ids(),
        what="store notifications",
    )


@shared_task
def appstores_reconcile() -> int:
    """Fetch every store subscription that may still give access and apply what the stores
    say; return how many changed."""
    report = reconcile.store_subscriptions_reconcile()
    for line in report.lines():
        logger.info("Store reconciliation: %s", line)
    return len(report.changed)
