"""Every write to trials and entitlements. Nothing else writes them."""

import hashlib
import hmac
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from config.errors import ApplicationError
from membership.errors import MembershipErrorCode, trial_already_used
from membership.models import (
    Entitlement,
    EntitlementEvent,
    EntitlementSource,
    Title,
    Trial,
    TrialEvent,
    TrialKind,
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
        _window_check(locked.starts_at, ends_at)
        data["ends_at"] = [locked.ends_at.isoformat(), ends_at.isoformat()]
        locked.ends_at = ends_at
    if all_titles is True and not locked.all_titles:
        data["titles"] = "all"
        locked.all_titles = True
        locked.titles.clear()
    elif titles is not None:
        chosen = list(titles)
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
