"""Celery tasks for trials: they take ids, call membership's services and retry.

The beat sweeps are scheduled by rows in django-celery-beat (migration 0002); every task is
idempotent, so a duplicated or re-driven message sends nothing twice.
"""

import logging
from collections.abc import Callable

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval

from membership import services

logger = logging.getLogger(__name__)

EMAIL_MAX_RETRIES = 6
EMAIL_RETRY_BASE_SECONDS = 60
EMAIL_RETRY_MAX_SECONDS = 3600


@shared_task
def trial_reminders_send() -> int:
    """Queue the reminder emails of trials that end within ``TRIAL_REMINDER_DAYS``."""
    return services.trial_reminders_send()


@shared_task
def trials_close() -> int:
    """Mark ended the trials whose end has passed and queue their "trial ended" emails."""
    return services.trials_close()


def _each_send(task: Task, send: Callable[..., bool], trial_ids: list[int], what: str) -> None:
    """Call ``send`` for every trial; retry, with back-off, only those the mail server refused."""
    failed: list[int] = []
    error: OSError | None = None
    for trial_id in trial_ids:
        try:
            send(trial_id=trial_id)
        except OSError as exc:  # smtplib.SMTPException is an OSError, as is a refused connection
            logger.warning("Could not send %s for trial %s: %r", what, trial_id, exc)
            failed.append(trial_id)
            error = exc
    if failed:
        retries = task.request.retries
        countdown = get_exponential_backoff_interval(
            factor=EMAIL_RETRY_BASE_SECONDS,
            retries=retries,
            maximum=EMAIL_RETRY_MAX_SECONDS,
            full_jitter=True,
        )
        logger.info(
            "Retrying %s for trials %s in %ss (retry %s)", what, failed, countdown, retries + 1
        )
        raise task.retry(kwargs={"trial_ids": failed}, countdown=countdown, exc=error)


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES)
def trial_reminder_emails_send(self: Task, *, trial_ids: list[int]) -> None:
    """Send each trial's reminder email, once."""
    _each_send(self, services.trial_reminder_send, trial_ids, "trial reminder")


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES)
def trial_ended_emails_send(self: Task, *, trial_ids: list[int]) -> None:
    """Send each trial's "your trial has ended" email, once."""
    _each_send(self, services.trial_ended_email_send, trial_ids, "trial-ended email")
