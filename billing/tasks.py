"""Celery tasks for billing: apply stored Stripe events, re-drive the ones left behind."""

import logging

from celery import Task, shared_task
from kombu.exceptions import OperationalError as BrokerError

from billing import events
from billing.event_handlers import EVENT_HANDLERS

logger = logging.getLogger(__name__)

APPLY_MAX_RETRIES = 8


@shared_task(bind=True, max_retries=APPLY_MAX_RETRIES, acks_late=True, reject_on_worker_lost=True)
def webhook_event_apply(self: Task, event_id: int) -> str:
    """Apply one stored Stripe event; on failure retry with back-off, then leave it failed."""
    try:
        return events.webhook_event_process(event_id=event_id, handlers=EVENT_HANDLERS)
    except Exception as exc:
        if self.request.retries >= APPLY_MAX_RETRIES:
            logger.error(
                "Stripe event row %s stays failed after %s tries",
                event_id,
                self.request.retries + 1,
            )
            raise
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 600)) from exc


@shared_task
def webhook_events_redrive() -> int:
    """Queue again the events never applied (broker down, worker killed) or stuck."""
    event_ids = events.webhook_events_pending_ids()
    queued = 0
    for event_id in event_ids:
        try:
            webhook_event_apply.delay(event_id)
        except BrokerError:
            logger.warning(
                "Broker unavailable; %s events wait for the next run", len(event_ids) - queued
            )
            break
        queued += 1
    if queued:
        logger.info("Re-queued %s Stripe events left pending", queued)
    return queued
