"""POST /api/v1/articles/{id}/gift-links/ and GET /api/v1/me/gift-links/: giving gift links."""

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from membership.models import EntitlementSource, GiftLink
from membership.services import trial_start
from membership.services.gift_links import gift_link_create
from tests.factories import ArticleFactory, EntitlementFactory, TitleFactory, UserFactory

ME_LINKS = "/api/v1/me/gift-links/"


def gift_links_url(article) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/articles/{article.pk}/gift-links/"


def paying(source: str = EntitlementSource.SUBSCRIPTION, **kwargs):  # type: ignore[no-untyped-def]
    """A reader with paid access (``source``) to every title, or to ``titles``, from 2020
    until 2035 unless ``starts_at``/``ends_at`` say otherwise."""
    reader = UserFactory()
    titles = kwargs.pop("titles", None)
    kwargs.setdefault("starts_at", datetime(2020, 1, 1, tzinfo=UTC))
    kwargs.setdefault("ends_at", datetime(2035, 1, 1, tzinfo=UTC))
    entitlement = EntitlementFactory(
        user=reader, source=source, all_titles=titles is None, **kwargs
    )
    if titles:
        entitlement.titles.set(titles)
    return reader


def client_for(reader) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(reader)
    return client


@pytest.fixture
def giver(db):  # type: ignore[no-untyped-def]
    return paying()


@pytest.fixture
def giver_client(giver) -> APIClient:  # type: ignore[no-untyped-def]
    return client_for(giver)


def test_a_subscriber_gives_a_link_that_lasts_fourteen_days_and_opens_ten_times(
    giver, giver_client, premium_article, settings
):
    settings.SITE_URL = "https://news.example.com"
    moment = datetime(2026, 3, 10, 9, 30, 15, tzinfo=UTC)

    with time_machine.travel(moment, tick=False):
        response = giver_client.post(gift_links_url(premium_article), {}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"url", "token", "expires_at", "opens_left"}
    token = body["token"]
    assert body["url"] == f"https://news.example.com/a/{premium_article.pk}/?gift={token}"
    assert parse_datetime(body["expires_at"]) == moment + timedelta(days=14)
    assert body["opens_left"] == 10
    assert body["gifts_remaining"] == 9
    assert len(token) >= 43  # 256 bits in URL-safe base64
    link = GiftLink.objects.get()
    assert link.giver == giver and link.article == premium_article
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {link.salt, link.token_hash}
    assert response["Cache-Control"] == "private, no-store"


def test_a_reader_with_complimentary_access_may_give_links(premium_article):
    response = client_for(paying(EntitlementSource.COMP)).post(gift_links_url(premium_article))

    assert response.status_code == 201


@pytest.mark.parametrize("state", ["nothing", "trial", "other_title", "lapsed"])
def test_a_reader_without_paid_access_to_the_title_is_refused_with_a_403(state, premium_article):
    if state == "nothing":
        reader = UserFactory()
    elif state == "trial":
        reader = UserFactory()
        trial_start(user=reader)
    elif state == "other_title":
        reader = paying(titles=[TitleFactory()])
    else:
        reader = paying(ends_at=timezone.now() - timedelta(seconds=1))

    response = client_for(reader).post(gift_links_url(premium_article))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "gift_links_paid_only"
    assert not GiftLink.objects.exists()


def test_an_anonymous_reader_is_asked_to_sign_in(api_client, premium_article):
    assert api_client.post(gift_links_url(premium_article)).status_code == 401
    assert api_client.get(ME_LINKS).status_code == 401


def test_sharing_the_same_article_again_this_month_returns_the_same_link_for_nothing(
    giver_client, premium_article
):
    first = giver_client.post(gift_links_url(premium_article)).json()
    again = giver_client.post(gift_links_url(premium_article))

    assert again.status_code == 201
    assert again.json()["url"] == first["url"] and again.json()["token"] == first["token"]
    assert again.json()["gifts_remaining"] == 9
    assert GiftLink.objects.count() == 1


def test_the_monthly_allowance_is_counted_per_calendar_month_to_the_second(giver_client, settings):
    settings.GIFT_LINKS_PER_MONTH = 2
    articles = ArticleFactory.create_batch(4)
    last_second = datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC)

    with time_machine.travel(last_second - timedelta(days=3)):
        assert giver_client.post(gift_links_url(articles[0])).status_code == 201
    with time_machine.travel(last_second, tick=False):
        assert giver_client.post(gift_links_url(articles[1])).status_code == 201
        refused = giver_client.post(gift_links_url(articles[2]))
        again = giver_client.post(gift_links_url(articles[0]))  # already given: free
    with time_machine.travel(last_second + timedelta(seconds=1), tick=False):
        next_month = giver_client.post(gift_links_url(articles[2]))

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "gift_links_used_up"
    assert again.status_code == 201
    assert next_month.status_code == 201 and next_month.json()["gifts_remaining"] == 1


def test_an_expired_link_is_replaced_by_a_new_one_which_costs_a_gift(giver_client, premium_article):
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        first = giver_client.post(gift_links_url(premium_article)).json()
    with time_machine.travel(start + timedelta(days=14), tick=False):
        second = giver_client.post(gift_links_url(premium_article)).json()

    assert second["token"] != first["token"]
    assert second["gifts_remaining"] == 8


def test_a_withdrawn_link_is_not_replaced_within_the_month(giver, giver_client, premium_article):
    given = gift_link_create(giver=giver, article=premium_article)
    GiftLink.objects.filter(pk=given.link.pk).update(revoked_at=timezone.now())

    response = giver_client.post(gift_links_url(premium_article))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "gift_link_revoked"


def test_bad_input_is_a_4xx_never_a_500(giver_client, premium_article, free_article):
    listed = giver_client.post(gift_links_url(premium_article), [1, 2], format="json")
    missing = giver_client.post("/api/v1/articles/999999999/gift-links/")
    nonsense = giver_client.post("/api/v1/articles/abc/gift-links/")
    free = giver_client.post(gift_links_url(free_article))
    garbage = giver_client.generic(
        "POST", gift_links_url(premium_article), "{not json", content_type="application/json"
    )

    assert listed.status_code == 400 and listed.json()["error"]["code"] == "invalid_input"
    assert missing.status_code == 404 and nonsense.status_code == 404
    assert free.status_code == 409
    assert free.json()["error"]["code"] == "gift_link_article_free"
    assert garbage.status_code == 400
    assert not GiftLink.objects.exists()


def test_the_giver_lists_their_links_opens_and_the_gifts_left(
    giver, giver_client, premium_article, settings, django_assert_max_num_queries
):
    settings.SITE_URL = "https://news.example.com"
    others = ArticleFactory.create_batch(2)
    given = [gift_link_create(giver=giver, article=a) for a in [premium_article, *others]]
    GiftLink.objects.filter(pk=given[0].link.pk).update(opens=3)
    GiftLink.objects.filter(pk=given[1].link.pk).update(revoked_at=timezone.now())
    gift_link_create(giver=paying(), article=premium_article)  # someone else's

    with django_assert_max_num_queries(6):
        response = giver_client.get(ME_LINKS)

    assert response.status_code == 200
    body = response.json()
    assert (body["limit"], body["given"], body["remaining"]) == (10, 3, 7)
    by_article = {row["article"]["id"]: row for row in body["links"]}
    assert set(by_article) == {a.pk for a in [premium_article, *others]}
    first = by_article[premium_article.pk]
    assert first["token"] == given[0].token
    assert first["url"] == f"https://news.example.com/a/{premium_article.pk}/?gift={given[0].token}"
    assert (first["opens"], first["opens_left"], first["state"]) == (3, 7, "live")
    assert by_article[others[0].pk]["state"] == "revoked"
    assert by_article[others[0].pk]["opens_left"] == 0
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db(transaction=True)
def test_parallel_gifts_never_exceed_the_monthly_allowance(settings):
    settings.GIFT_LINKS_PER_MONTH = 3
    giver = paying()
    articles = ArticleFactory.create_batch(8)
    statuses: list[int] = []

    def give(article) -> None:  # type: ignore[no-untyped-def]
        try:
            statuses.append(client_for(giver).post(gift_links_url(article)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=give, args=(a,)) for a in articles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] * 3 + [409] * 5
    assert GiftLink.objects.filter(giver=giver).count() == 3
