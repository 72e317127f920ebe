"""One window per subscription or trial: the database holds it, whatever the writers do.

A subscription's access is one entitlement row at a time (its window); after a gap a new
window supersedes the last. Two writers opening a window for one reference at once leave
one window, on SQLite and on PostgreSQL.
"""

import contextlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier, BrokenBarrierError

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from membership.models import Entitlement
from membership.services import entitlement_grant, entitlement_sync
from tests.factories import UserFactory

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["subscription", "trial"])
def test_the_database_refuses_a_second_window_for_a_subscription_or_trial(source: str) -> None:
    reader = UserFactory()
    ends_at = timezone.now() + timedelta(days=9)
    entitlement_grant(user=reader, source=source, reference="sub_1", ends_at=ends_at)

    with pytest.raises(IntegrityError), transaction.atomic():
        entitlement_grant(user=reader, source=source, reference="sub_1", ends_at=ends_at)

    assert Entitlement.objects.count() == 1


@pytest.mark.django_db
def test_grants_sharing_a_reference_of_another_kind_are_all_kept() -> None:
    """A comp's reference names the admin who gave it, not the grant; a blank one names none."""
    reader = UserFactory()
    ends_at = timezone.now() + timedelta(days=9)
    for _ in range(2):
        entitlement_grant(user=reader, source="comp", reference="comp:by-user:1", ends_at=ends_at)
        entitlement_grant(user=reader, source="subscription", ends_at=ends_at)

    assert Entitlement.objects.count() == 4


@pytest.mark.django_db
def test_a_new_window_after_a_gap_supersedes_the_last() -> None:
    reader = UserFactory()
    with time_machine.travel(NOW, tick=False):
        first = entitlement_sync(
            user=reader, source="subscription", reference="sub_1", ends_at=NOW + timedelta(days=3)
        )
    reopened_at = NOW + timedelta(days=5)
    with time_machine.travel(reopened_at, tick=False):
        second = entitlement_sync(
            user=reader, source="subscription", reference="sub_1", ends_at=NOW + timedelta(days=30)
        )

    assert first is not None and second is not None and second.pk != first.pk
    first.refresh_from_db()
    assert first.superseded_at == reopened_at
    assert first.ends_at == NOW + timedelta(days=3), "the past window is kept as it was"
    assert second.superseded_at is None
    assert list(Entitlement.objects.live(at=reopened_at)) == [second]


@pytest.mark.django_db(transaction=True)
def test_two_writers_opening_one_subscriptions_window_at_once_leave_one_window() -> None:
    """Each writer opens the window in a transaction it keeps open until the other has
    written too (or a moment has passed, when the database makes it wait)."""
    reader = UserFactory()
    ends = [timezone.now() + timedelta(days=30), timezone.now() + timedelta(days=31)]
    start, written = Barrier(2), Barrier(2, timeout=1.5)

    def writer(ends_at: datetime) -> int | None:
        try:
            start.wait()
            with transaction.atomic():
                window = entitlement_sync(
                    user=reader, source="subscription", reference="sub_race", ends_at=ends_at
                )
                with contextlib.suppress(BrokenBarrierError):
                    written.wait()
            return window.pk if window else None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(writer, ends)

    window = Entitlement.objects.get(reference="sub_race")
    assert first == second == window.pk
    assert window.ends_at in ends
    assert window.events.filter(kind="granted").count() == 1
