"""Trial sweeps (beat): reminders before a trial ends, closing it after.

The rows are the record (``reminder_sent_at``, ``status``, ``ended_email_sent_at``), written
with the email's outbox row in one transaction; the broker only carries nudges, so a task
that is lost is queued again by the next sweep, and an outbox row by the outbox re-drive.
"""

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
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


def _batches_enqueue(task: Any, trials: QuerySet[Trial]) -> int:
    """Queue ``task`` once per batch of trial ids, after commit; return how many ids."""
    queued = 0
    for ids in _id_batches(trials):
        transaction.on_commit(partial(task.delay, trial_ids=ids))
        queued += len(ids)
    return queued


def trial_reminders_send(*, at: datetime | None = None) -> int:
    """Queue the reminder email of every active cardless trial ending within
    ``TRIAL_REMINDER_DAYS`` that has had none (subscribed readers excepted); return how many
    were queued."""
    from membership.tasks import trial_reminder_emails_send  # tasks import this module

    now = at or timezone.now()
    queued = _batches_enqueue(trial_reminder_emails_send, _reminders_due(now))
    logger.info("Queued %s trial reminders", queued)
    return queued


def trials_close(*, at: datetime | None = None) -> int:
    """Mark ended every active trial whose end has passed and queue each reader's "trial
    ended" email, once (subscribed readers excepted); return how many trials were ended.
    Access does not wait for this: it ends at the entitlement's ``ends_at``."""
    from membership.tasks import trial_ended_emails_send  # tasks import this module

    now = at or timezone.now()
    past_end = Trial.objects.filter(status=TrialStatus.ACTIVE, ends_at__lte=now)
    ended = sum(len(trials_end(trial_ids=ids, at=now)) for ids in _id_batches(past_end))
    queued = _batches_enqueue(trial_ended_emails_send, _ended_emails_due(now))
    logger.info("Closed %s ended trials; queued %s trial-ended emails", ended, queued)
    return ended


@transaction.atomic
def trial_reminder_send(*, trial_id: int) -> bool:
    """Record that the reader is reminded their trial ends soon, with its email in the
    outbox (sent after commit), unless it was recorded already or is no longer due; return
    whether it was recorded now."""
    now = timezone.now()
    trial = trial_for_update(trial_id=trial_id, trials=_reminders_due(now))
    if trial is None or trial.user is None:
        logger.info("Skipped trial reminder for trial %s: not due", trial_id)
        return False
    trial.reminder_sent_at = now
    trial.save(update_fields=["reminder_sent_at"])
    TrialEvent.objects.create(
        trial=trial, kind=TrialEvent.Kind.REMINDED, at=now, data={"to_user": trial.user.pk}
    )
    outbox_add(
        kind="trial_reminder",
        object_ref=f"trial:{trial.pk}",
        fact="reminder",
        message=trial_reminder_email_build(trial=trial, to=trial.user.email, now=now),
        user=trial.user,
    )
    logger.info("Recorded trial reminder for trial %s to user %s", trial.pk, trial.user.pk)
    return True


@transaction.atomic
def trial_ended_email_send(*, trial_id: int) -> bool:
    """Record the reader's "your trial has ended" email, with the plans on sale, in the
    outbox (sent after commit), unless it was recorded already or is no longer due; return
    whether it was recorded now."""
    now = timezone.now()
    trial = trial_for_update(trial_id=trial_id, trials=_ended_emails_due(now))
    if trial is None or trial.user is None:
        logger.info("Skipped trial-ended email for trial %s: not due", trial_id)
        return False
    trial.ended_email_sent_at = now
    trial.save(update_fields=["ended_email_sent_at"])
    plans = Plan.objects.filter(is_active=True)
    outbox_add(
        kind="trial_ended",
        object_ref=f"trial:{trial.pk}",
        fact="ended",
        message=trial_ended_email_build(trial=trial, to=trial.user.email, plans=plans),
        user=trial.user,
    )
    logger.info("Recorded trial-ended email for trial %s to user %s", trial.pk, trial.user.pk)
    return True
