"""Gift links in the admin: listed with their giver, opens and state; withdrawn by an action."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from membership.models import EntitlementSource, GiftLink
from membership.services.gift_links import gift_link_create, gift_link_open
from tests.factories import ArticleFactory, EntitlementFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:membership_giftlink_changelist")


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def give(email: str, *, days_ago: int = 0):  # type: ignore[no-untyped-def]
    giver = UserFactory(email=email)
    EntitlementFactory(
        user=giver,
        source=EntitlementSource.SUBSCRIPTION,
        starts_at=datetime(2020, 1, 1, tzinfo=UTC),
        ends_at=datetime(2035, 1, 1, tzinfo=UTC),
    )
    at = timezone.now() - timedelta(days=days_ago)
    return gift_link_create(giver=giver, article=ArticleFactory(), at=at)


@pytest.fixture
def editor(client: Client):  # type: ignore[no-untyped-def]
    staff = StaffFactory()
    client.force_login(staff)
    return staff


def test_the_list_shows_giver_article_opens_and_state_and_filters_and_searches(client, editor):
    live = give("alice@example.com")
    gift_link_open(token=live.token, article=live.link.article, reader=None, device_id="d" * 32)
    expired = give("bob@example.com", days_ago=20)

    listing = client.get(CHANGELIST).content.decode()
    only_live = client.get(CHANGELIST, {"state": "live"}).context["cl"].result_list
    only_expired = client.get(CHANGELIST, {"state": "expired"}).context["cl"].result_list
    found = client.get(CHANGELIST, {"q": "bob@"}).context["cl"].result_list
    page = client.get(reverse("admin:membership_giftlink_change", args=[live.link.pk]))

    assert "alice@example.com" in listing and live.link.article.headline in listing
    assert "Opens the article" in listing and "This gift link has expired" in listing
    assert list(only_live) == [live.link] and list(only_expired) == [expired.link]
    assert list(found) == [expired.link]
    assert page.status_code == 200 and f"device:{'d' * 32}" in page.content.decode()
    assert live.token not in listing + page.content.decode()  # only its hash is stored


def test_the_withdraw_action_stops_the_link_at_once_and_records_who(client, editor):
    given = give("carol@example.com")
    article = given.link.article
    assert gift_link_open(token=given.token, article=article, reader=None, device_id=None).granted

    client.post(CHANGELIST, {"action": "revoke_selected", "_selected_action": [given.link.pk]})

    link = GiftLink.objects.get(pk=given.link.pk)
    assert link.revoked_at is not None and link.revoked_by == editor
    opening = gift_link_open(token=given.token, article=article, reader=None, device_id=None)
    assert not opening.granted and opening.state == "revoked"
    assert client.get(CHANGELIST, {"state": "revoked"}).context["cl"].result_list[0] == link


def test_gift_links_cannot_be_added_edited_or_deleted_and_readers_cannot_withdraw(client, editor):
    given = give("dan@example.com")

    assert client.get(reverse("admin:membership_giftlink_add")).status_code == 403
    client.force_login(UserFactory())
    client.post(CHANGELIST, {"action": "revoke_selected", "_selected_action": [given.link.pk]})

    assert GiftLink.objects.get(pk=given.link.pk).revoked_at is None
