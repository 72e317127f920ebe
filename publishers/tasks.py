"""Celery tasks for publishers: close last month's statements (beat, on the 1st)."""

import logging

from celery import shared_task
from django.utils import timezone

from publishers.statements import month_close, month_previous, month_start

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def statements_close() -> str:
    """Close the month before this one; a month already closed is left as it is."""
    month = month_previous(month_start(timezone.now().date()))
    close = month_close(month=month)
    logger.info("Statements of %s closed at %s", f"{month:%Y-%m}", close.closed_at)
    return f"{month:%Y-%m}"
