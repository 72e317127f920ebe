"""Trial writes: one free trial per person, started, claimed and ended."""

import hashlib
import hmac
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import email_address_verified
from membership.errors import email_unverified, trial_already_used
from membership.models import (
    Entitlement,
    EntitlementSource,
    Trial,
    TrialEvent,
    TrialKind,
    TrialStatus,
)
from membership.services.entitlements import entitlement_change, entitlement_grant

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


@transaction.atomic
def trial_claim(*, user: User, kind: str, starts_at: datetime, ends_at: datetime) -> Trial:
    """Spend the reader's one trial (cardless, or a card trial through Stripe).

    Refuses with ``trial_already_used`` when this account, or any account ever opened with
    the same normalised address, has had one; a cardless trial is refused with
    ``email_unverified`` (403) until the reader's address is verified.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    fingerprint = email_hash(locked.email)
    taken = Trial.objects.filter(Q(user=locked) | Q(email_hash=fingerprint)).exists()
    if locked.trial_used_at is not None or taken:
        raise trial_already_used()
    if kind == TrialKind.CARDLESS and not email_address_verified(user=locked):
        raise email_unverified()
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
def trial_start(*, user: User, at: datetime | None = None) -> Trial:
    """Start the reader's free trial at ``at`` (now): every premium title for ``TRIAL_DAYS``
    days, no card.

    One per person, for ever; a second attempt raises ``trial_already_used`` (409), and a
    reader whose address is not verified yet gets ``email_unverified`` (403).
    """
    starts_at = at or timezone.now()
    ends_at = starts_at + timedelta(days=settings.TRIAL_DAYS)
    trial = trial_claim(user=user, kind=TrialKind.CARDLESS, starts_at=starts_at, ends_at=ends_at)
    entitlement_grant(
        user=user,
        source=EntitlementSource.TRIAL,
        starts_at=starts_at,
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


def trial_for_update(*, trial_id: int, trials: QuerySet[Trial] | None = None) -> Trial | None:
    """Return the trial (among ``trials``) with its row locked until the transaction ends."""
    chosen = Trial.objects.all() if trials is None else trials
    return chosen.select_for_update(of=("self",)).select_related("user").filter(pk=trial_id).first()


@transaction.atomic
def trials_end(*, trial_ids: Sequence[int], at: datetime | None = None) -> list[int]:
    """Mark ended the active trials among ``trial_ids`` (the one status change a trial
    makes), recording each; return the ids ended. Ended trials are left as they are."""
    now = at or timezone.now()
    locked = list(  # plain tuples: a sweep ends tens of thousands at a time
        Trial.objects.select_for_update()
        .filter(pk__in=trial_ids, status=TrialStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", "ends_at")
    )
    ended = [trial_id for trial_id, _ in locked]
    Trial.objects.filter(pk__in=ended).update(status=TrialStatus.ENDED, ended_at=now)
    TrialEvent.objects.bulk_create(
        TrialEvent(
            trial_id=trial_id,
            kind=TrialEvent.Kind.ENDED,
            at=now,
            data={"ends_at": ends_at.isoformat()},
        )
        for trial_id, ends_at in locked
    )
    if ended:
        logger.info("Ended %s trials: %s", len(ended), ended)
    return ended


@transaction.atomic
def trial_end_early(
    *,
    user: User,
    at: datetime,
    begun_by: datetime | None = None,
    kinds: Sequence[str] = tuple(TrialKind),
) -> Trial | None:
    """Close at ``at``, before its planned end, the reader's trial (of one of ``kinds``)
    that had begun by ``begun_by`` (``at``): Stripe ended their trial early
    (``trial_end=now``), or they paid. The trial reads as ended from then on, everywhere,
    and its own access ends then too. Return the trial closed, or None."""
    trial = (
        Trial.objects.select_for_update()
        .filter(user=user, status=TrialStatus.ACTIVE, kind__in=kinds)
        .filter(started_at__lte=begun_by or at, ends_at__gt=at)
        .first()
    )
    if trial is None:
        return None
    planned_end = trial.ends_at
    trial.ends_at = max(trial.started_at, at)
    trial.status = TrialStatus.ENDED
    trial.ended_at = at
    trial.save(update_fields=["ends_at", "status", "ended_at"])
    TrialEvent.objects.create(
        trial=trial,
        kind=TrialEvent.Kind.ENDED,
        at=at,
        data={"ends_at": planned_end.isoformat(), "ended_early": True},
    )
    live = Entitlement.objects.filter(
        user=user, source=EntitlementSource.TRIAL, reference=f"trial:{trial.pk}", ends_at__gt=at
    )
    for entitlement in live:
        ends_at = max(entitlement.starts_at, at)
        entitlement_change(entitlement=entitlement, ends_at=ends_at, note="Trial ended early")
    logger.info(
        "Trial %s of user %s ended early at %s (planned %s)", trial.pk, user.pk, at, planned_end
    )
    return trial
