"""Draining stored Stripe events: a worker woken by one nudge applies every event waiting.

Events are claimed a batch at a time (one ``UPDATE … RETURNING`` leases the batch) and
applied one by one, oldest first, with the handlers a single event gets (``billing.events``):
each row is still claimed once and leased (one heartbeat renews the whole batch's leases
until every row is recorded). A row that fails is recorded failed at once; the rows applied
are recorded together when the batch is done (one ``UPDATE``, not one per row), each
exactly once and only while this worker still holds it. A worker that dies before that
leaves them processing: their leases run out and they are applied again, as an event whose
worker died mid-way always was. Two workers draining at once never claim the same row
(PostgreSQL skips rows another claim has locked; SQLite runs one write at a time).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing.events import (
    webhook_event_fail,
    webhook_event_handle,
    webhook_event_lease_kept,
    webhook_events_finish,
)
from billing.models import WebhookEvent, WebhookEventStatus
from core.db import rows_claim_batch

logger = logging.getLogger(__name__)


def webhook_events_claim_batch(*, limit: int) -> list[WebhookEvent]:
    """Lease up to ``limit`` events waiting to be applied (received, never claimed) to this
    worker, oldest first; the ones another worker is claiming at this moment are skipped."""
    adapt = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    until = now + timedelta(seconds=settings.BILLING_EVENT_LEASE_SECONDS)
    return rows_claim_batch(
        WebhookEvent,
        waiting="status = %s",
        waiting_params=[WebhookEventStatus.RECEIVED],
        changes="status = %s, attempts = attempts + 1, started_at = %s, lease_until = %s",
        changes_params=[WebhookEventStatus.PROCESSING, adapt(now), adapt(until)],
        limit=limit,
    )


@dataclass
class Drained:
    """What a drain did: how many events it applied, and which failed (to be retried)."""

    applied: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)  # event row id -> its status
    failed: list[int] = field(default_factory=list)
    more_waiting: bool = False  # it stopped at its time limit with events still waiting


def webhook_events_drain(*, on_backlog: Callable[[], None] | None = None) -> Drained:
    """Apply the stored events waiting, batch by batch, until none is left or
    ``BILLING_EVENT_DRAIN_SECONDS`` have passed (then ``more_waiting``: the caller nudges
    again, so no task runs into its time limit). A failing event is recorded failed and
    reported; the others go on.

    With ``on_backlog``, the first claim takes one event, and if others wait behind it
    ``on_backlog`` is called (the caller wakes another worker), so two events that arrive
    together are applied side by side rather than one after the other."""
    drained = Drained()
    deadline = time.monotonic() + settings.BILLING_EVENT_DRAIN_SECONDS
    limit = 1 if on_backlog is not None else settings.BILLING_EVENT_DRAIN_BATCH
    while batch := webhook_events_claim_batch(limit=limit):
        full = len(batch) == limit
        if on_backlog is not None:
            if full and WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED).exists():
                on_backlog()
            on_backlog, limit = None, settings.BILLING_EVENT_DRAIN_BATCH
        _batch_apply(batch, drained)
        if not full:  # none left: one stored from now on comes with its own nudge
            break
        if time.monotonic() > deadline:
            drained.more_waiting = True
            break
    if drained.applied or drained.failed:
        logger.info(
            "Drained %s stored Stripe event(s), %s failed", drained.applied, len(drained.failed)
        )
    return drained


def _batch_apply(batch: list[WebhookEvent], drained: Drained) -> None:
    """Apply a claimed batch in order under one lease heartbeat; record a failure at once
    and the rest in one statement at the end."""
    done: list[tuple[WebhookEvent, str]] = []
    try:
        with webhook_event_lease_kept(event=batch[0], more=batch[1:]):
            for event in batch:
                try:
                    try:
                        outcome = webhook_event_handle(event=event)
                    except Exception as exc:
                        webhook_event_fail(event=event, exc=exc)
                        raise
                except Exception:
                    logger.exception("Stripe event row %s failed; it is tried again", event.pk)
                    drained.failed.append(event.pk)
                    drained.outcomes[event.pk] = WebhookEventStatus.FAILED
                else:
                    done.append((event, outcome))
    finally:
        webhook_events_finish(finished=done)
    for event, outcome in done:
        drained.applied += 1
        drained.outcomes[event.pk] = outcome
