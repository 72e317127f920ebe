"""Draining stored Stripe events: a worker woken by one nudge applies every event waiting.

Events are claimed a batch at a time (one ``UPDATE … RETURNING`` leases the batch) and
applied one by one, oldest first, exactly as a single event is (``billing.events``): each
row is still claimed once, leased while it waits and while it is applied, and finished on
its own. Two workers draining at once never claim the same row (PostgreSQL skips rows
another claim has locked; SQLite runs one write at a time).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing.events import webhook_event_apply_claimed
from billing.models import WebhookEvent, WebhookEventStatus

logger = logging.getLogger(__name__)

# The batch is chosen once (a materialised CTE on PostgreSQL: a subquery could be scanned
# again for each row updated and, skipping the rows this very statement has locked, hand
# out more than ``limit``), locked with SKIP LOCKED where the database has it.
_CLAIM_BATCH_SQL = """
    {batch}
    UPDATE billing_webhookevent
    SET status = %s, attempts = attempts + 1, started_at = %s, lease_until = %s
    WHERE status = %s AND id IN ({ids})
    RETURNING *
"""
_BATCH = "SELECT id FROM billing_webhookevent WHERE status = %s ORDER BY id LIMIT %s"


def webhook_events_claim_batch(*, limit: int) -> list[WebhookEvent]:
    """Lease up to ``limit`` events waiting to be applied (received, never claimed) to this
    worker, oldest first; the ones another worker is claiming at this moment are skipped."""
    adapt = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    until = now + timedelta(seconds=settings.BILLING_EVENT_LEASE_SECONDS)
    update = [WebhookEventStatus.PROCESSING, adapt(now), adapt(until), WebhookEventStatus.RECEIVED]
    choose = [WebhookEventStatus.RECEIVED, limit]
    if connection.vendor == "postgresql":
        batch = f"WITH batch AS MATERIALIZED ({_BATCH} FOR UPDATE SKIP LOCKED)"
        sql, params = (
            _CLAIM_BATCH_SQL.format(batch=batch, ids="SELECT id FROM batch"),
            choose + update,
        )
    else:  # SQLite: one writer at a time, the subquery runs once
        sql, params = _CLAIM_BATCH_SQL.format(batch="", ids=_BATCH), update + choose
    claimed = list(WebhookEvent.objects.raw(sql, params))
    return sorted(claimed, key=lambda event: event.pk)


@dataclass
class Drained:
    """What a drain did: how many events it applied, and which failed (to be retried)."""

    applied: int = 0
    failed: list[int] = field(default_factory=list)
    more_waiting: bool = False  # it stopped at its time limit with events still waiting


def webhook_events_drain(*, on_backlog: Callable[[], None] | None = None) -> Drained:
    """Apply the stored events waiting, batch by batch, until none is left or
    ``BILLING_EVENT_DRAIN_SECONDS`` have passed (then ``more_waiting``: the caller nudges
    again, so no task runs into its time limit). A failing event is recorded failed and
    reported; the others go on. ``on_backlog`` is called once if the first batch is full
    (more may wait: the caller can wake another worker to drain alongside)."""
    drained = Drained()
    deadline = time.monotonic() + settings.BILLING_EVENT_DRAIN_SECONDS
    limit = settings.BILLING_EVENT_DRAIN_BATCH
    first = True
    while batch := webhook_events_claim_batch(limit=limit):
        if first and on_backlog is not None and len(batch) == limit:
            on_backlog()
        first = False
        for position, event in enumerate(batch):
            try:
                webhook_event_apply_claimed(event=event, waiting=batch[position + 1 :])
            except Exception:
                logger.exception("Stripe event row %s failed; it is tried again", event.pk)
                drained.failed.append(event.pk)
            else:
                drained.applied += 1
        if time.monotonic() > deadline:
            drained.more_waiting = True
            break
    if drained.applied or drained.failed:
        logger.info(
            "Drained %s stored Stripe event(s), %s failed", drained.applied, len(drained.failed)
        )
    return drained
