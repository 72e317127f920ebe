"""Celery tasks for readers' data: build an export, run an erasure, and the beat tasks that
delete expired exports and re-drive erasures left unfinished. They take ids and call
privacy's services; the database rows are the work, the broker only a nudge."""

import logging
from functools import partial

from celery import Task, shared_task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from core.redrive import rows_requeue
from privacy import services

logger = logging.getLogger(__name__)

EXPORT_MAX_RETRIES = 5
ERASURE_MAX_RETRIES = 8


def _send(task: Task, row_id: int) -> None:
    try:
        task.delay(row_id)
    except BrokerError:
        logger.warning("Broker unavailable; %s of row %s waits for the re-drive", task.name, row_id)


def after_commit(task: Task, row_id: int) -> None:
    """Queue ``task`` for the row once the current transaction commits."""
    transaction.on_commit(partial(_send, task, row_id), robust=True)


@shared_task(bind=True, max_retries=EXPORT_MAX_RETRIES, acks_late=True)
def export_make(self: Task, export_id: int) -> str:
    """Build one data export; retry while Stripe is out of reach, then mark it failed."""
    try:
        export = services.data_export_build(export_id=export_id)
    except Exception as exc:
        if self.request.retries >= EXPORT_MAX_RETRIES:
            services.data_export_fail(export_id=export_id, error=str(exc))
            raise
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 10, 600)) from exc
    return str(export.status)


@shared_task
def exports_clean() -> int:
    """Delete the zips of exports older than ``PRIVACY_EXPORT_DAYS``."""
    return services.data_exports_expire()


@shared_task
def records_retention_end() -> int:
    """Delete erased readers' payment records whose retention is over."""
    return services.erasure_records_expire()


@shared_task(bind=True, max_retries=ERASURE_MAX_RETRIES, acks_late=True, reject_on_worker_lost=True)
def erasure_perform(self: Task, request_id: int) -> str:
    """Run one erasure's remaining steps; retry with back-off (Stripe out of reach); the
    beat re-drive takes over a request whose worker died."""
    try:
        return services.erasure_run(request_id=request_id)
    except Exception as exc:
        if self.request.retries >= ERASURE_MAX_RETRIES:
            raise
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 600)) from exc


@shared_task
def erasures_redrive() -> int:
    """Queue again the erasures left unfinished, and scrub what Stripe sent lately about
    readers already erased."""
    scrubbed = services.erasures_late_scrub()
    if scrubbed:
        logger.info("Checked %s rows sent about erased readers since their erasure", scrubbed)
    return rows_requeue(
        task=erasure_perform, row_ids=services.erasures_pending_ids(), what="erasures"
    )
