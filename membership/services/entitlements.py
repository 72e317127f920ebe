"""Entitlement writes: grant, change, revoke, and the access a subscription gives."""

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from membership.errors import MembershipErrorCode
from membership.models import (
    Article,
    Entitlement,
    EntitlementEvent,
    EntitlementSource,
    Title,
)

logger = logging.getLogger(__name__)


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
    article: Article | None = None,
) -> Entitlement:
    """Let ``user`` read the given titles (every title when ``titles`` is None), or only
    ``article`` when given, from ``starts_at`` (now) until ``ends_at``; record who granted it
    and why."""
    starts_at = starts_at or timezone.now()
    _window_check(starts_at, ends_at)
    chosen = [] if article is not None else None if titles is None else list(titles)
    entitlement = Entitlement.objects.create(
        user=user,
        source=source,
        article=article,
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
            **({"article": article.pk} if article is not None else {}),
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
    return _locked_change(
        locked, ends_at=ends_at, titles=titles, all_titles=all_titles, actor=actor, note=note
    )


def _locked_change(
    locked: Entitlement,
    *,
    ends_at: datetime | None = None,
    titles: Iterable[Title] | None = None,
    all_titles: bool | None = None,
    actor: User | None = None,
    note: str = "",
) -> Entitlement:
    """``entitlement_change`` on a row this transaction has locked already."""
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


def _window_for_update(*, user: User, source: str, reference: str) -> Entitlement | None:
    """The reader's newest window from ``reference``, its row locked until the end."""
    return (
        Entitlement.objects.select_for_update()
        .filter(user=user, source=source, reference=reference)
        .order_by("-starts_at", "-pk")
        .first()
    )


def _window_move(
    locked: Entitlement, *, ends_at: datetime, titles: Iterable[Title] | None
) -> Entitlement:
    if titles is None:
        return _locked_change(locked, ends_at=ends_at, all_titles=True)
    return _locked_change(locked, ends_at=ends_at, titles=titles)


def _window_open(
    *,
    user: User,
    source: str,
    reference: str,
    ends_at: datetime,
    titles: Iterable[Title] | None,
    last: Entitlement | None,
) -> Entitlement:
    """Open a new window for ``reference`` after ``last`` (closed, or None), superseding it.

    The database admits one window per subscription or trial: when another transaction
    opened one meanwhile, the grant is refused and that window is moved instead."""
    if last is not None and last.superseded_at is None:
        last.superseded_at = timezone.now()
        last.save(update_fields=["superseded_at"])
    try:
        with transaction.atomic():  # a savepoint: the refusal below leaves the caller's unit
            return entitlement_grant(
                user=user, source=source, ends_at=ends_at, titles=titles, reference=reference
            )
    except IntegrityError:
        opened = _window_for_update(user=user, source=source, reference=reference)
        if opened is None or opened.superseded_at is not None:
            raise
        logger.info(
            "Entitlement %s for %s %s was opened meanwhile by another writer; moving it",
            opened.pk,
            source,
            reference,
        )
        return _window_move(opened, ends_at=ends_at, titles=titles)


# No savepoint inside a caller's transaction (two statements on every webhook event): it
# refuses nothing a caller could recover from, so its failure fails the caller's whole unit.
@transaction.atomic(savepoint=False)
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

    Extends or shortens the open window; after a gap, opens a new one from now. Whatever
    the interleaving of callers, a subscription or trial never has two windows open.
    Return the entitlement that now stands for ``reference``, if any.
    """
    now = timezone.now()
    current = _window_for_update(user=user, source=source, reference=reference)
    open_now = current is not None and current.ends_at > now
    if ends_at is None or ends_at <= now:
        if current is not None and open_now:
            return _locked_change(current, ends_at=max(current.starts_at, now), note="Access ended")
        return current
    if current is None or not open_now:
        return _window_open(
            user=user,
            source=source,
            reference=reference,
            ends_at=ends_at,
            titles=titles,
            last=current,
        )
    return _window_move(current, ends_at=ends_at, titles=titles)


def reader_payment_issue_set(*, user: User, since: datetime | None) -> None:
    """Record that the reader's payment has failed since ``since`` (None: all is paid), so the
    paywall can offer to update the card."""
    if user.payment_issue_since != since:
        User.objects.filter(pk=user.pk).update(payment_issue_since=since)
        user.payment_issue_since = since
