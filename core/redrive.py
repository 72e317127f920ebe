"""Re-driving stored work: the database row is the unit of work, the broker only a nudge."""

import logging
from collections.abc import Sequence
from typing import Any

from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def rows_requeue(*, task: Any, row_ids: Sequence[int], what: str) -> int:
    """Queue ``task`` once for each row id, in order, and return how many were queued.

    A broker outage stops the run without raising: the rows are still stored, and the next
    run queues them. ``what`` names the rows in the log ("Stripe events", "outbox emails")."""
    queued = 0
    for row_id in row_ids:
        try:
            task.delay(row_id)
        except BrokerError:
            logger.warning(
                "Broker unavailable; %s %s wait for the next run", len(row_ids) - queued, what
            )
            break
        queued += 1
    if queued:
        logger.info("Re-queued %s %s left pending", queued, what)
    return queued
