"""The stored-event pipeline: keep each Stripe event once, claim it, apply it, record how.

Work that must not be lost is a row first: an event is stored before it is applied, a
task only nudges it, and ``webhook_events_redrive`` re-queues rows left behind.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import WebhookEvent, WebhookEventStatus

logger = logging.getLogger(__name__)

FINISHED = (WebhookEventStatus.SUCCEEDED, WebhookEventStatus.IGNORED)


def webhook_event_store(*, event: dict[str, Any]) -> tuple[WebhookEvent, bool]:
    """Store a verified event once; return it and whether this call stored it."""
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                stripe_id=event["id"],
                type=event.get("type", ""),
                api_version=event.get("api_version") or "",
                livemode=bool(event.get("livemode")),
                payload=event,
            )
    except IntegrityError:
        logger.info("Stripe event %s arrived again; already stored", event["id"])
        return WebhookEvent.objects.get(stripe_id=event["id"]), False
    logger.info("Stored Stripe event %s (%s) as %s", stored.stripe_id, stored.type, stored.pk)
    return stored, True


def _stale_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.BILLING_EVENT_STALE_SECONDS)


# Not finished, and not started by a live worker less than the stale window ago (unless
# this is the redelivered message of a worker that died).
_CLAIM_SQL = """
    UPDATE billing_webhookevent
    SET status = %s, attempts = attempts + 1, started_at = %s
    WHERE id = %s AND status NOT IN (%s, %s)
        AND (%s OR status <> %s OR started_at IS NULL OR started_at <= %s)
    RETURNING *
"""


def webhook_event_claim(*, event_id: int, redelivered: bool = False) -> WebhookEvent | None:
    """Mark the event processing for this worker and return it, or return None when it is
    finished or another worker is applying it right now.

    A ``redelivered`` message is one the broker handed out again because the worker running
    it died (``acks_late`` + ``reject_on_worker_lost``): it takes over the event that run
    left processing, instead of leaving it to the re-drive after the stale window. The claim
    is one ``UPDATE … RETURNING``, so of two workers claiming at once exactly one wins, and
    claiming costs a worker one statement."""
    adapt = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    params = [
        WebhookEventStatus.PROCESSING, adapt(now), event_id, *FINISHED,
        redelivered, WebhookEventStatus.PROCESSING, adapt(_stale_before()),
    ]  # fmt: skip
    claimed = list(WebhookEvent.objects.raw(_CLAIM_SQL, params))
    if not claimed:
        return None
    event = claimed[0]
    if event.attempts > 1:
        logger.warning(
            "Stripe event %s was tried before; applying it again (attempt %s)",
            event.stripe_id,
            event.attempts,
        )
    return event


def webhook_event_finish(*, event: WebhookEvent, status: str, error: str = "") -> None:
    """Record how applying the event ended."""
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, last_error=error[:4000], finished_at=timezone.now()
    )
    event.status = status
    logger.info(
        "Stripe event %s (%s) %s after %s attempt(s)%s",
        event.stripe_id,
        event.type,
        status,
        event.attempts,
        f": {error}" if error else "",
    )


def webhook_event_process(
    *,
    event_id: int,
    handlers: dict[str, Callable[[WebhookEvent], None]],
    redelivered: bool = False,
) -> str:
    """Apply a stored event with its handler, once; return the status it ends in.

    A handler's exception marks the event failed and propagates, so the task retries.
    """
    event = webhook_event_claim(event_id=event_id, redelivered=redelivered)
    if event is None:
        return "skipped"
    handler = handlers.get(event.type)
    if handler is None:
        webhook_event_finish(event=event, status=WebhookEventStatus.IGNORED)
        return WebhookEventStatus.IGNORED
    try:
        handler(event)
    except Exception as exc:
        webhook_event_finish(
            event=event, status=WebhookEventStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    webhook_event_finish(event=event, status=WebhookEventStatus.SUCCEEDED)
    return WebhookEventStatus.SUCCEEDED


def webhook_events_pending_ids(*, limit: int = 1000) -> list[int]:
    """Return events that were never applied (broker down, worker killed) or are stuck."""
    stuck = Q(status=WebhookEventStatus.PROCESSING, started_at__lt=_stale_before())
    waiting = Q(
        status=WebhookEventStatus.RECEIVED,
        received_at__lt=timezone.now() - timedelta(seconds=settings.BILLING_EVENT_REDRIVE_AFTER),
    )
    rows = WebhookEvent.objects.filter(stuck | waiting).order_by("received_at", "pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def webhook_events_replay(*, event_ids: list[int]) -> int:
    """Put failed events back to received so they are applied again; return how many."""
    return WebhookEvent.objects.filter(pk__in=event_ids, status=WebhookEventStatus.FAILED).update(
        status=WebhookEventStatus.RECEIVED, last_error=""
    )
