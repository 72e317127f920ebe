"""Trial sweeps (beat): reminders before a trial ends, closing it after.

The rows are the record (``reminder_sent_at``, ``status``, ``ended_email_sent_at``), written
with the email's outbox row in one transaction; the broker only carries nudges, so a task
that is lost is queued again by the next sweep, and an outbox row by the outbox re-drive.
The sweeps here return batches of trial ids; ``membership.tasks`` queues them.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from membership.emails import trial_ended_email_build, trial_reminder_email_build
from membership.models import (
    Entitlement,
    EntitlementSource,
    Plan,
    Trial,
    TrialEvent,
    TrialKind,
    TrialStatus,
)
from membership.services.outbox import outbox_add
from membership.services.trials import trial_for_update, trials_end

logger = logging.getLogger(__name__)

# How long after a trial ends its "trial ended" email is still worth sending (or retrying).
TRIAL_ENDED_EMAIL_WITHIN = timedelta(days=7)


def _reachable(trials: QuerySet[Trial], at: datetime) -> QuerySet[Trial]:
    """Trials whose reader may be emailed: an active account, no live subscription."""
    subscribed = Entitlement.objects.live(at).filter(
        user_id=OuterRef("user_id"), source=EntitlementSource.SUBSCRIPTION
    )
    return trials.filter(user__isnull=False, user__is_active=True).filter(~Exists(subscribed))


def _reminders_due(at: datetime) -> QuerySet[Trial]:
    """Cardless trials only: billing reminds card trials (Stripe's ``trial_will_end``)."""
    window_end = at + timedelta(days=settings.TRIAL_REMINDER_DAYS)
    due = Trial.objects.filter(
        kind=TrialKind.CARDLESS,
        status=TrialStatus.ACTIVE,
        reminder_sent_at__isnull=True,
        ends_at__gt=at,
        ends_at__lte=window_end,
    )
    return _reachable(due, at)


def _ended_emails_due(at: datetime) -> QuerySet[Trial]:
    due = Trial.objects.filter(
        status=TrialStatus.ENDED,
        ended_email_sent_at__isnull=True,
        ended_at__gt=at - TRIAL_ENDED_EMAIL_WITHIN,
    )
    return _reachable(due, at)


def _id_batches(trials: QuerySet[Trial]) -> Iterator[list[int]]:
    """Yield the trials' ids in ascending batches of ``MEMBERSHIP_BATCH_SIZE``."""
    after = 0
    while True:
        ids = list(
            trials.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[: settings.MEMBERSHIP_BATCH_SIZE]
        )
        if not ids:
            return
        yield ids
        after = ids[-1]


def trial_reminder_batches(*, at: datetime | None = None) -> Iterator[list[int]]:
    """Yield, in batches of ``MEMBERSHIP_BATCH_SIZE``, the ids of the active cardless trials
    ending within ``TRIAL_REMINDER_DAYS`` that have had no reminder (subscribed readers
    excepted)."""
    return _id_batches(_reminders_due(at or timezone.now()))


def trials_expired_close(*, at: datetime | None = None) -> int:
    """Mark ended every active trial whose end has passed; return how many were ended.
    Access does not wait for this: it ends at the entitlement's ``ends_at``."""
    now = at or timezone.now()
    past_end = Trial.objects.filter(status=TrialStatus.ACTIVE, ends_at__lte=now)
    ended = sum(len(trials_end(trial_ids=ids, at=now)) for ids in _id_batches(past_end))
    logger.info("Closed %s ended trials", ended)
    return ended


def trial_ended_email_batches(*, at: datetime | None = None) -> Iterator[list[int]]:
    """Yield, in batches of ``MEMBERSHIP_BATCH_SIZE``, the ids of the ended trials whose
    "trial ended" email is still due (within ``TRIAL_ENDED_EMAIL_WITHIN``, subscribed readers
    excepted)."""
    return _id_batches(_ended_emails_due(at or timezone.now()))


@dataclass(frozen=True)
class _TrialEmail:
    """One kind of trial email: which trials are ``due`` it, its outbox ``fact``, a ``label``
    for the log, and ``record``, which marks it on the trial row and builds the email."""

    due: Callable[[datetime], QuerySet[Trial]]
    fact: str
    label: str
    record: Callable[[Trial, datetime], EmailMultiAlternatives]


def _trial_email_record(*, trial_id: int, email: _TrialEmail) -> bool:
    """The skeleton of both trial emails: lock the trial if it is still due, mark it and put
    its email in the outbox, in the caller's transaction; return whether it was recorded."""
    now = timezone.now()
    trial = trial_for_update(trial_id=trial_id, trials=email.due(now))
    if trial is None or trial.user is None:
        logger.info("Skipped %s for trial %s: not due", email.label, trial_id)
        return False
    outbox_add(
        kind=f"trial_{email.fact}",
        object_ref=f"trial:{trial.pk}",
        fact=email.fact,
        message=email.record(trial, now),
        user=trial.user,
    )
    logger.info("Recorded %s for trial %s to user %s", email.label, trial.pk, trial.user.pk)
    return True


def _reminder_record(trial: Trial, now: datetime) -> EmailMultiAlternatives:
    assert trial.user is not None
    trial.reminder_sent_at = now
    trial.save(update_fields=["reminder_sent_at"])
    TrialEvent.objects.create(
        trial=trial, kind=TrialEvent.Kind.REMINDED, at=now, data={"to_user": trial.user.pk}
    )
    return trial_reminder_email_build(trial=trial, to=trial.user.email, now=now)


def _ended_record(trial: Trial, now: datetime) -> EmailMultiAlternatives:
    assert trial.user is not None
    trial.ended_email_sent_at = now
    trial.save(update_fields=["ended_email_sent_at"])
    plans = Plan.objects.filter(is_active=True)
    return trial_ended_email_build(trial=trial, to=trial.user.email, plans=plans)


REMINDER_EMAIL = _TrialEmail(
    due=_reminders_due, fact="reminder", label="trial reminder", record=_reminder_record
)
ENDED_EMAIL = _TrialEmail(
    due=_ended_emails_due, fact="ended", label="trial-ended email", record=_ended_record
)


@transaction.atomic
def trial_reminder_send(*, trial_id: int) -> bool:
    """Record that the reader is reminded their trial ends soon, with its email in the
    outbox (sent after commit), unless it was recorded already or is no longer due; return
    whether it was recorded now."""
    return _trial_email_record(trial_id=trial_id, email=REMINDER_EMAIL)


@transaction.atomic
def trial_ended_email_send(*, trial_id: int) -> bool:
    """Record the reader's "your trial has ended" email, with the plans on sale, in the
    outbox (sent after commit), unless it was recorded already or is no longer due; return
    whether it was recorded now."""
    return _trial_email_record(trial_id=trial_id, email=ENDED_EMAIL)
