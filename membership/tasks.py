"""Celery tasks for trials: they take ids, call membership's services and retry.

The beat sweeps are scheduled by rows in django-celery-beat (migration 0002); every task is
idempotent, so a duplicated or re-driven message sends nothing twice: emails are outbox rows,
one per fact (``membership.services.outbox``), sent after commit by ``outbox_messages_send``
(one nudge per burst of emails) and retried one by one by ``outbox_message_send``.
"""

import logging
from collections.abc import Iterable
from functools import partial

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from core import nudges
from core.redrive import rows_requeue
from membership import services

logger = logging.getLogger(__name__)

EMAIL_MAX_RETRIES = 6
EMAIL_RETRY_BASE_SECONDS = 60
EMAIL_RETRY_MAX_SECONDS = 3600
OUTBOX_NUDGE = "outbox"  # the kind of nudge (core.nudges) that wakes an outbox sender


def _batches_queue(task: Task, batches: Iterable[list[int]]) -> int:
    """Queue ``task`` once per batch of trial ids, after commit; return how many ids."""
    queued = 0
    for ids in batches:
        transaction.on_commit(partial(task.delay, trial_ids=ids))
        queued += len(ids)
    return queued


@shared_task
def trial_reminders_send() -> int:
    """Queue the reminder emails of trials that end within ``TRIAL_REMINDER_DAYS``; return
    how many were queued."""
    queued = _batches_queue(trial_reminder_emails_send, services.trial_reminder_batches())
    logger.info("Queued %s trial reminders", queued)
    return queued


@shared_task
def trials_close() -> int:
    """Mark ended the trials whose end has passed and queue each reader's "trial ended"
    email, once; return how many trials were ended."""
    ended = services.trials_expired_close()
    queued = _batches_queue(trial_ended_emails_send, services.trial_ended_email_batches())
    logger.info("Queued %s trial-ended emails", queued)
    return ended


@shared_task
def trial_reminder_emails_send(*, trial_ids: list[int]) -> int:
    """Record each due trial's reminder (its email goes through the outbox); return how many."""
    return sum(services.trial_reminder_send(trial_id=trial_id) for trial_id in trial_ids)


@shared_task
def trial_ended_emails_send(*, trial_ids: list[int]) -> int:
    """Record each due trial's "your trial has ended" email (sent through the outbox); return
    how many."""
    return sum(services.trial_ended_email_send(trial_id=trial_id) for trial_id in trial_ids)


def outbox_nudge() -> None:
    """Wake a sender for the emails just recorded, unless a nudge is pending already (its
    sender drains them too: ``core.nudges``). With the broker down they wait for the
    re-drive."""
    if not nudges.nudge_claim(OUTBOX_NUDGE, seconds=settings.OUTBOX_NUDGE_SECONDS):
        return
    try:
        outbox_messages_send.delay()
    except BrokerError:
        nudges.nudge_taken(OUTBOX_NUDGE)
        logger.warning("Broker unavailable; the emails just recorded wait for the re-drive")


@shared_task(acks_late=True)
def outbox_messages_send() -> int:
    """Send every email waiting for its first try (the nudge of a burst); hand each one the
    mail server failed to its own retry, and queue a fresh nudge when the time limit left
    emails waiting. Returns how many were sent."""
    nudges.nudge_taken(OUTBOX_NUDGE)
    drained = services.outbox_messages_drain()
    try:
        for message_id in drained.retry:
            # The drain's try was the first: this is the first retry, counted as one.
            outbox_message_send.apply_async(  # type: ignore[call-arg]
                (message_id,), countdown=_email_backoff(0), retries=1
            )
        if drained.more_waiting:
            outbox_nudge()
    except BrokerError:  # the rows are stored: the re-drive sends them
        logger.warning("Broker unavailable; %s emails wait for the re-drive", len(drained.retry))
    return drained.sent


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES, acks_late=True)
def outbox_message_send(self: Task, message_id: int) -> str:
    """Send one outbox row, once; retry with back-off while the mail server fails (the beat
    re-drive takes over after the last retry)."""
    try:
        return services.outbox_message_deliver(message_id=message_id)
    except OSError as exc:  # smtplib.SMTPException is an OSError, as is a refused connection
        retries = self.request.retries
        if retries >= EMAIL_MAX_RETRIES:
            logger.warning(
                "Outbox row %s waits for the re-drive after %s tries", message_id, retries + 1
            )
            return "pending"
        raise self.retry(exc=exc, countdown=_email_backoff(retries)) from exc


def _email_backoff(retries: int) -> float:
    return get_exponential_backoff_interval(
        factor=EMAIL_RETRY_BASE_SECONDS,
        retries=retries,
        maximum=EMAIL_RETRY_MAX_SECONDS,
        full_jitter=True,
    )


@shared_task
def outbox_redrive() -> int:
    """Queue again the outbox rows whose nudge was lost or whose sender died."""
    return rows_requeue(
        task=outbox_message_send, row_ids=services.outbox_unsent_ids(), what="outbox emails"
    )
