"""The stores' notifications: verified, stored once, then applied by a worker.

A notification only says *that* a subscription changed: the worker fetches the newest state
from the store and applies that, so a duplicate, a late or a shuffled delivery cannot undo a
newer state. Work that must not be lost is a row first; ``store_notifications_pending_ids``
gives the beat re-drive the rows whose nudge was lost or whose worker died.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from appstores import services
from appstores.models import Store, StoreNotification
from appstores.models import StoreNotificationStatus as Status

logger = logging.getLogger(__name__)

FINISHED = (Status.SUCCEEDED, Status.IGNORED)
GOOGLE_REVOKED = 12


def store_notification_record(
    *,
    store: str,
    notification_id: str,
    type: str,
    subtype: str = "",
    environment: str = "",
    external_id: str = "",
    payload: dict[str, Any],
) -> tuple[StoreNotification, bool]:
    """Store a verified notification once; return it and whether this call stored it."""
    try:
        with transaction.atomic():
            row = StoreNotification.objects.create(
                store=store,
                notification_id=notification_id,
                type=type,
                subtype=subtype,
                environment=environment,
                external_id=external_id,
                payload=payload,
            )
    except IntegrityError:
        logger.info("%s notification %s arrived again; already stored", store, notification_id)
        return StoreNotification.objects.get(store=store, notification_id=notification_id), False
    logger.info("Stored %s notification %s (%s) as %s", store, notification_id, type, row.pk)
    return row, True


def _lease() -> timedelta:
    return timedelta(seconds=settings.APPSTORES_NOTIFICATION_LEASE_SECONDS)


def store_notification_claim(*, notification_id: int) -> StoreNotification | None:
    """Lease the notification to this worker, or return None when it is finished or another
    worker holds a live lease on it. Of two workers claiming at once, one wins."""
    now = timezone.now()
    free = ~Q(status__in=[*FINISHED, Status.PROCESSING]) | Q(
        status=Status.PROCESSING, lease_until__lte=now
    )
    taken = StoreNotification.objects.filter(free, pk=notification_id).update(
        status=Status.PROCESSING,
        attempts=F("attempts") + 1,
        started_at=now,
        lease_until=now + _lease(),
    )
    return StoreNotification.objects.get(pk=notification_id) if taken else None


def _apply(row: StoreNotification) -> str:
    if not row.external_id:
        return Status.IGNORED
    if row.store == Store.APPLE:
        services.apple_subscription_refresh(transaction_id=row.external_id)
    else:
        services.google_purchase_refresh(
            purchase_token=row.external_id, revoked=row.type == str(GOOGLE_REVOKED)
        )
    return Status.SUCCEEDED


def store_notification_process(*, notification_id: int) -> str:
    """Apply a stored notification once; return the status it ends in, or "skipped" when it
    is finished already or held by another worker. A failure marks it failed and raises, so
    the task retries."""
    row = store_notification_claim(notification_id=notification_id)
    if row is None:
        return "skipped"
    held = StoreNotification.objects.filter(pk=row.pk, attempts=row.attempts)
    try:
        outcome = _apply(row)
    except Exception as exc:
        held.update(
            status=Status.FAILED,
            last_error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
            lease_until=None,
        )
        raise
    held.update(status=outcome, last_error="", finished_at=timezone.now(), lease_until=None)
    logger.info("%s notification %s %s", row.store, row.notification_id, outcome)
    return outcome


def store_notifications_pending_ids(*, limit: int = 1000) -> list[int]:
    """Notifications never applied (broker down, worker killed) or stuck past their lease."""
    now = timezone.now()
    waiting = Q(
        status=Status.RECEIVED,
        received_at__lt=now - timedelta(seconds=settings.APPSTORES_REDRIVE_AFTER_SECONDS),
    )
    stuck = Q(status=Status.PROCESSING, lease_until__lte=now)
    rows = StoreNotification.objects.filter(waiting | stuck).order_by("received_at", "pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def store_notifications_replay(*, notification_ids: list[int]) -> int:
    """Put failed notifications back to received so they are applied again; return how many."""
    return StoreNotification.objects.filter(pk__in=notification_ids, status=Status.FAILED).update(
        status=Status.RECEIVED, last_error=""
    )
