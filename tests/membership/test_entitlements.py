"""Entitlement services: every grant, change and revocation is recorded."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.errors import ApplicationError
from membership.access import article_access
from membership.models import Entitlement, EntitlementEvent
from membership.services import (
    entitlement_change,
    entitlement_grant,
    entitlement_revoke,
    entitlement_sync,
    reader_payment_issue_set,
)
from tests.factories import ArticleFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_grant_records_who_what_and_until_when() -> None:
    editor, reader = UserFactory(is_staff=True), UserFactory()
    title = TitleFactory(slug="the-ledger")

    entitlement = entitlement_grant(
        user=reader,
        source="comp",
        ends_at=NOW + timedelta(days=5),
        titles=[title],
        reference="comp:by-user:1",
        note="Conference guest",
        actor=editor,
    )

    assert entitlement.all_titles is False
    assert list(entitlement.titles.values_list("slug", flat=True)) == ["the-ledger"]
    event = EntitlementEvent.objects.get(entitlement=entitlement)
    assert (event.kind, event.actor, event.note) == ("granted", editor, "Conference guest")
    assert event.data["titles"] == ["the-ledger"]


def test_grant_refuses_a_window_that_ends_before_it_starts() -> None:
    reader = UserFactory()
    with pytest.raises(ApplicationError) as refused:
        entitlement_grant(user=reader, source="comp", ends_at=datetime.now(UTC) - timedelta(1))
    assert refused.value.code == "invalid_window"
    assert not Entitlement.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_change_extends_the_window_and_switches_titles() -> None:
    reader = UserFactory()
    first, second = TitleFactory(), TitleFactory()
    entitlement = entitlement_grant(
        user=reader, source="subscription", ends_at=NOW + timedelta(days=30)
    )

    entitlement_change(entitlement=entitlement, ends_at=NOW + timedelta(days=60))
    entitlement_change(entitlement=entitlement, titles=[first, second])

    entitlement.refresh_from_db()
    assert entitlement.ends_at == NOW + timedelta(days=60)
    assert entitlement.all_titles is False
    assert set(entitlement.titles.all()) == {first, second}
    kinds = list(entitlement.events.values_list("kind", flat=True))
    assert kinds == ["granted", "changed", "changed"]


def test_change_with_nothing_new_writes_no_event() -> None:
    reader = UserFactory()
    entitlement = entitlement_grant(
        user=reader, source="gift", ends_at=datetime.now(UTC) + timedelta(days=3)
    )
    entitlement_change(entitlement=entitlement, ends_at=entitlement.ends_at)
    assert entitlement.events.count() == 1


@time_machine.travel(NOW, tick=False)
def test_revoke_ends_access_now_once() -> None:
    reader = UserFactory()
    entitlement = entitlement_grant(user=reader, source="comp", ends_at=NOW + timedelta(days=9))

    entitlement_revoke(entitlement=entitlement, note="Mistake")
    entitlement_revoke(entitlement=entitlement, note="Clicked twice")

    entitlement.refresh_from_db()
    assert (entitlement.ends_at, entitlement.revoked_at) == (NOW, NOW)
    assert list(entitlement.events.values_list("kind", flat=True)) == ["granted", "revoked"]


def test_sync_opens_extends_and_ends_the_access_of_one_reference() -> None:
    reader = UserFactory()
    with time_machine.travel(NOW, tick=False):
        opened = entitlement_sync(
            user=reader, source="subscription", reference="sub_1", ends_at=NOW + timedelta(days=30)
        )
        again = entitlement_sync(
            user=reader, source="subscription", reference="sub_1", ends_at=NOW + timedelta(days=30)
        )
        assert again == opened
        assert opened is not None and opened.events.count() == 1, "no change, no event"

    later = NOW + timedelta(days=29)
    with time_machine.travel(later, tick=False):
        extended = entitlement_sync(
            user=reader, source="subscription", reference="sub_1", ends_at=NOW + timedelta(days=60)
        )
        assert extended == opened
        ended = entitlement_sync(
            user=reader, source="subscription", reference="sub_1", ends_at=None
        )
        assert ended is not None and ended.ends_at == later

    with time_machine.travel(later + timedelta(days=5), tick=False):
        reopened = entitlement_sync(
            user=reader, source="subscription", reference="sub_1", ends_at=NOW + timedelta(days=90)
        )
        assert reopened is not None and reopened.pk != opened.pk, "a gap opens a new window"
        assert reopened.starts_at == later + timedelta(days=5)


def test_payment_trouble_turns_the_denial_into_update_your_card() -> None:
    reader = UserFactory()
    article = ArticleFactory()
    reader_payment_issue_set(user=reader, since=NOW)
    assert article_access(reader=reader, article=article).reason == "payment_failed"
    reader_payment_issue_set(user=reader, since=None)
    reader.refresh_from_db()
    assert reader.payment_issue_since is None
