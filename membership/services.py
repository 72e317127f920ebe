"""Every write to trials and entitlements. Nothing else writes them."""

import hashlib
import hmac
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from config.errors import ApplicationError
from membership.emails import trial_ended_email_build, trial_reminder_email_build
from membership.errors import MembershipErrorCode, trial_already_used
from membership.models import (
    Entitlement,
    EntitlementEvent,
    EntitlementSource,
    Plan,
    Title,
    Trial,
    TrialEvent,
    TrialKind,
    TrialStatus,
)

logger = logging.getLogger(__name__)

GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def email_canonical(email: str) -> str:
    """Return the address one person is known by: lower-cased, ``+tag`` removed, and the
    dots of the local part removed for Gmail, which ignores them."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def email_hash(email: str) -> str:
    """Return the keyed hash (HMAC-SHA256) that stands for a person's address."""
    key = settings.EMAIL_HASH_KEY.encode()
    return hmac.new(key, email_canonical(email).encode(), hashlib.sha256).hexdigest()


def _entitlement_event(
    entitlement: Entitlement,
    kind: str,
    *,
    actor: User | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> EntitlementEvent:
    return EntitlementEvent.objects.create(
        entitlement=entitlement, kind=kind, actor=actor, note=note, data=data or {}
    )


def _window_check(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ApplicationError(
            code=MembershipErrorCode.INVALID_WINDOW,
            message="The end of access must come after its start.",
        )


@transaction.atomic
def entitlement_grant(
    *,
    user: User,
    source: str,
    ends_at: datetime,
    starts_at: datetime | None = None,
    titles: Iterable[Title] | None = None,
    reference: str = "",
    note: str = "",
    actor: User | None = None,
) -> Entitlement:
    """Let ``user`` read the given titles (every title when ``titles`` is None) from
    ``starts_at`` (now) until ``ends_at``; record who granted it and why."""
    starts_at = starts_at or timezone.now()
    _window_check(starts_at, ends_at)
    chosen = None if titles is None else list(titles)
    entitlement = Entitlement.objects.create(
        user=user,
        source=source,
        all_titles=chosen is None,
        starts_at=starts_at,
        ends_at=ends_at,
        reference=reference,
        note=note,
    )
    if chosen:
        entitlement.titles.set(chosen)
    _entitlement_event(
        entitlement,
        EntitlementEvent.Kind.GRANTED,
        actor=actor,
        note=note,
        data={
            "source": source,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "titles": "all" if chosen is None else [t.slug for t in chosen],
            "reference": reference,
        },
    )
    logger.info(
        "Granted %s entitlement %s to user %s until %s",
        source,
        entitlement.pk,
        user.pk,
        ends_at.isoformat(),
    )
    return entitlement


def entitlement_for_update(*, entitlement_id: int) -> Entitlement:
    """Return the entitlement with its row locked until the transaction ends."""
    return Entitlement.objects.select_for_update().get(pk=entitlement_id)


@transaction.atomic
def entitlement_change(
    *,
    entitlement: Entitlement,
    ends_at: datetime | None = None,
    titles: Iterable[Title] | None = None,
    all_titles: bool | None = None,
    actor: User | None = None,
    note: str = "",
) -> Entitlement:
    """Move the end of access and/or replace the titles covered; record the change."""
    locked = entitlement_for_update(entitlement_id=entitlement.pk)
    data: dict[str, Any] = {}
    if ends_at is not None and ends_at != locked.ends_at:
        if ends_at != locked.starts_at:  # ending a window at its start empties it: allowed
            _window_check(locked.starts_at, ends_at)
        data["ends_at"] = [locked.ends_at.isoformat(), ends_at.isoformat()]
        locked.ends_at = ends_at
    if all_titles is True and not locked.all_titles:
        data["titles"] = "all"
        locked.all_titles = True
        locked.titles.clear()
    elif titles is not None:
        chosen = list(titles)
        unchanged = not locked.all_titles and {t.pk for t in chosen} == set(
            locked.titles.values_list("pk", flat=True)
        )
        if not unchanged:
            data["titles"] = [t.slug for t in chosen]
            locked.all_titles = False
            locked.titles.set(chosen)
    if not data:
        return locked
    locked.save(update_fields=["ends_at", "all_titles"])
    _entitlement_event(locked, EntitlementEvent.Kind.CHANGED, actor=actor, note=note, data=data)
    logger.info("Changed entitlement %s of user %s: %s", locked.pk, locked.user_id, data)
    return locked


@transaction.atomic
def entitlement_revoke(
    *, entitlement: Entitlement, actor: User | None = None, note: str = ""
) -> Entitlement:
    """End access now (or cancel a window that has not begun). Revoking twice is a no-op."""
    locked = entitlement_for_update(entitlement_id=entitlement.pk)
    if locked.revoked_at is not None:
        return locked
    now = timezone.now()
    previous_end = locked.ends_at
    locked.revoked_at = now
    locked.ends_at = max(locked.starts_at, min(locked.ends_at, now))
    locked.save(update_fields=["revoked_at", "ends_at"])
    _entitlement_event(
        locked,
        EntitlementEvent.Kind.REVOKED,
        actor=actor,
        note=note,
        data={"ends_at": [previous_end.isoformat(), locked.ends_at.isoformat()]},
    )
    logger.info("Revoked entitlement %s of user %s", locked.pk, locked.user_id)
    return locked


def comp_grant(
    *,
    user: User,
    ends_at: datetime,
    note: str,
    actor: User | None,
    titles: Iterable[Title] | None = None,
) -> Entitlement:
    """Give a reader complimentary access to some titles or all of them, until ``ends_at``."""
    return entitlement_grant(
        user=user,
        source=EntitlementSource.COMP,
        ends_at=ends_at,
        titles=titles,
        reference=f"comp:by-user:{actor.pk}" if actor else "comp",
        note=note,
        actor=actor,
    )


@transaction.atomic
def trial_claim(*, user: User, kind: str, starts_at: datetime, ends_at: datetime) -> Trial:
    """Spend the reader's one trial (cardless, or a card trial through Stripe).

    Refuses with ``trial_already_used`` when this account, or any account ever opened with
    the same normalised address, has had one.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    fingerprint = email_hash(locked.email)
    taken = Trial.objects.filter(Q(user=locked) | Q(email_hash=fingerprint)).exists()
    if locked.trial_used_at is not None or taken:
        raise trial_already_used()
    try:
        with transaction.atomic():
            trial = Trial.objects.create(
                user=locked,
                email_hash=fingerprint,
                kind=kind,
                started_at=starts_at,
                ends_at=ends_at,
            )
    except IntegrityError as exc:  # a concurrent claim won the race
        raise trial_already_used() from exc
    TrialEvent.objects.create(
        trial=trial,
        kind=TrialEvent.Kind.STARTED,
        at=starts_at,
        data={"kind": kind, "ends_at": ends_at.isoformat()},
    )
    User.objects.filter(pk=locked.pk).update(trial_used_at=starts_at)
    user.trial_used_at = starts_at
    logger.info("User %s claimed a %s trial %s ending %s", user.pk, kind, trial.pk, ends_at)
    return trial


@transaction.atomic
def trial_start(*, user: User) -> Trial:
    """Start the reader's free trial: every premium title for ``TRIAL_DAYS`` days, no card.

    One per person, for ever; a second attempt raises ``trial_already_used`` (409).
    """
    now = timezone.now()
    ends_at = now + timedelta(days=settings.TRIAL_DAYS)
    trial = trial_claim(user=user, kind=TrialKind.CARDLESS, starts_at=now, ends_at=ends_at)
    entitlement_grant(
        user=user,
        source=EntitlementSource.TRIAL,
        starts_at=now,
        ends_at=ends_at,
        reference=f"trial:{trial.pk}",
    )
    return trial


def trial_history_apply(*, user: User) -> None:
    """Mark a new account whose address already had a trial, so the paywall offers plans."""
    claimed = (
        Trial.objects.filter(email_hash=email_hash(user.email))
        .values_list("started_at", flat=True)
        .first()
    )
    if claimed is not None and user.trial_used_at is None:
        User.objects.filter(pk=user.pk).update(trial_used_at=claimed)
        user.trial_used_at = claimed


# Trial sweeps (beat): reminders before a trial ends, closing it after. The rows are the
# record (reminder_sent_at, status, ended_email_sent_at); the broker only carries nudges,
# so an email task that is lost is queued again by the next sweep.

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


def trial_for_update(*, trial_id: int, trials: QuerySet[Trial] | None = None) -> Trial | None:
    """Return the trial (among ``trials``) with its row locked until the transaction ends."""
    chosen = Trial.objects.all() if trials is None else trials
    return chosen.select_for_update(of=("self",)).select_related("user").filter(pk=trial_id).first()


@transaction.atomic
def trials_end(*, trial_ids: Sequence[int], at: datetime | None = None) -> list[int]:
    """Mark ended the active trials among ``trial_ids`` (the one status change a trial
    makes), recording each; return the ids ended. Ended trials are left as they are."""
    now = at or timezone.now()
    locked = list(
        Trial.objects.select_for_update()
        .filter(pk__in=trial_ids, status=TrialStatus.ACTIVE)
        .order_by("pk")
    )
    ended = [trial.pk for trial in locked]
    Trial.objects.filter(pk__in=ended).update(status=TrialStatus.ENDED, ended_at=now)
    TrialEvent.objects.bulk_create(
        TrialEvent(
            trial=trial,
            kind=TrialEvent.Kind.ENDED,
            at=now,
            data={"ends_at": trial.ends_at.isoformat()},
        )
        for trial in locked
    )
    for trial in locked:
        logger.info("Ended trial %s of user %s", trial.pk, trial.user_id)
    return ended


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
    """Email the reader that their trial ends soon, unless it was sent already or is no
    longer due; return whether it was sent now."""
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
    trial_reminder_email_build(trial=trial, to=trial.user.email, now=now).send()
    logger.info("Sent trial reminder for trial %s to user %s", trial.pk, trial.user.pk)
    return True


@transaction.atomic
def trial_ended_email_send(*, trial_id: int) -> bool:
    """Email the reader that their trial has ended, with the plans on sale, unless it was
    sent already or is no longer due; return whether it was sent now."""
    now = timezone.now()
    trial = trial_for_update(trial_id=trial_id, trials=_ended_emails_due(now))
    if trial is None or trial.user is None:
        logger.info("Skipped trial-ended email for trial %s: not due", trial_id)
        return False
    trial.ended_email_sent_at = now
    trial.save(update_fields=["ended_email_sent_at"])
    plans = Plan.objects.filter(is_active=True)
    trial_ended_email_build(trial=trial, to=trial.user.email, plans=plans).send()
    logger.info("Sent trial-ended email for trial %s to user %s", trial.pk, trial.user.pk)
    return True


@transaction.atomic
def entitlement_sync(
    *,
    user: User,
    source: str,
    reference: str,
    ends_at: datetime | None,
    titles: Iterable[Title] | None = None,
) -> Entitlement | None:
    """Make the reader's access from ``reference`` (a subscription, say) run until
    ``ends_at`` over ``titles`` (every title when None); ``ends_at=None`` ends it now.

    Extends or shortens the open window; after a gap, opens a new one from now.
    Return the entitlement that now stands for ``reference``, if any.
    """
    now = timezone.now()
    current = (
        Entitlement.objects.select_for_update()
        .filter(user=user, source=source, reference=reference)
        .order_by("-starts_at", "-pk")
        .first()
    )
    open_now = current is not None and current.ends_at > now
    if ends_at is None or ends_at <= now:
        if current is not None and open_now:
            return entitlement_change(
                entitlement=current, ends_at=max(current.starts_at, now), note="Access ended"
            )
        return current
    if current is None or not open_now:
        return entitlement_grant(
            user=user, source=source, ends_at=ends_at, titles=titles, reference=reference
        )
    if titles is None:
        return entitlement_change(entitlement=current, ends_at=ends_at, all_titles=True)
    return entitlement_change(entitlement=current, ends_at=ends_at, titles=titles)


def reader_payment_issue_set(*, user: User, since: datetime | None) -> None:
    """Record that the reader's payment has failed since ``since`` (None: all is paid), so the
    paywall can offer to update the card."""
    if user.payment_issue_since != since:
        User.objects.filter(pk=user.pk).update(payment_issue_since=since)
        user.payment_issue_since = since
