"""Opening a gift link: /a/<id>/?gift=<token> on the web, ?gift=<token> on the article API."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from membership.devices import DEVICE_COOKIE, device_id_new, device_token_make
from membership.models import GiftLink, GiftLinkOpen, MeterRead
from membership.services.gift_links import gift_link_create, gift_link_revoke
from tests.factories import ArticleFactory, EntitlementFactory, UserFactory

MARKER = "PREMIUM-BODY-MARKER"


@pytest.fixture(autouse=True)
def _no_meter(settings):  # type: ignore[no-untyped-def]
    """No free articles from the meter: only the gift link may open the body."""
    settings.METER_ANONYMOUS = 0
    settings.METER_REGISTERED = 0


@pytest.fixture
def article(db):  # type: ignore[no-untyped-def]
    return ArticleFactory()


@pytest.fixture
def given(article):  # type: ignore[no-untyped-def]
    """A gift link to ``article`` given by a subscriber a day ago."""
    giver = UserFactory()
    EntitlementFactory(
        user=giver,
        source="subscription",
        starts_at=datetime(2020, 1, 1, tzinfo=UTC),
        ends_at=datetime(2035, 1, 1, tzinfo=UTC),
    )
    return gift_link_create(giver=giver, article=article, at=timezone.now() - timedelta(days=1))


def app(device_id: str | None = None) -> APIClient:
    """The app on one device (its X-Device-Token)."""
    headers = {"HTTP_X_DEVICE_TOKEN": device_token_make(device_id=device_id or device_id_new())}
    return APIClient(**headers)


def api_read(client, article, token):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/articles/{article.pk}/", {"gift": token})


def page(client, article, token):  # type: ignore[no-untyped-def]
    return client.get(f"/a/{article.pk}/?gift={token}")


def test_the_app_opens_the_whole_article_with_the_gift_link_reason(article, given):
    response = api_read(app(), article, given.token)

    assert response.status_code == 200
    body = response.json()
    assert body["access"] == {"granted": True, "reason": "gift_link"}
    assert MARKER in body["body"] and "paywall" not in body
    assert body["gift_link"]["state"] == "live"
    assert "meter" not in body
    assert response["Cache-Control"] == "private, no-store"
    assert "Cookie" in response["Vary"] and "X-Session-Token" in response["Vary"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert GiftLink.objects.get(pk=given.link.pk).opens == 1


def test_the_page_opens_the_article_and_invites_the_recipient_to_sign_up(article, given):
    browser = Client()

    response = page(browser, article, given.token)

    html = response.content.decode()
    assert response.status_code == 200
    assert MARKER in html
    assert "A gift from a Masthead member" in html
    assert "Enjoyed this gift? Sign up to keep reading" in html
    assert given.token not in html  # not in the canonical address, nor in sign-up's next
    assert response["Cache-Control"] == "private, no-store"
    assert "Cookie" in response["Vary"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert DEVICE_COOKIE in response.cookies


def test_the_gift_read_leaves_the_recipients_meter_alone(article, given, settings):
    settings.METER_ANONYMOUS = 2

    response = api_read(app(), article, given.token)

    assert response.json()["access"]["reason"] == "gift_link"
    assert not MeterRead.objects.exists()


def test_reopening_on_the_same_device_or_by_the_same_reader_is_free(article, given):
    device = device_id_new()
    browser = Client()
    reader = UserFactory()
    signed_in = APIClient()
    signed_in.force_login(reader)

    for _ in range(3):
        assert MARKER in api_read(app(device), article, given.token).json()["body"]
        assert MARKER in page(browser, article, given.token).content.decode()
        assert MARKER in api_read(signed_in, article, given.token).json()["body"]

    assert GiftLink.objects.get(pk=given.link.pk).opens == 3
    openers = set(GiftLinkOpen.objects.values_list("opener", flat=True))
    assert f"device:{device}" in openers and f"reader:{reader.pk}" in openers


def test_the_link_opens_on_at_most_the_allowed_number_of_devices(article, given, settings):
    settings.GIFT_LINK_MAX_OPENS = 3
    devices = [device_id_new() for _ in range(4)]

    answers = [api_read(app(d), article, given.token).json() for d in devices]

    assert [a["access"]["granted"] for a in answers] == [True, True, True, False]
    refused = answers[3]
    assert "body" not in refused and refused["access"]["reason"] == "sign_up"
    assert refused["gift_link"]["state"] == "exhausted"
    assert refused["paywall"]["reason"] == "sign_up"
    # A device it opened on still reopens it; a new browser sees the paywall and why.
    assert api_read(app(devices[0]), article, given.token).json()["access"]["granted"]
    html = page(Client(), article, given.token).content.decode()
    assert MARKER not in html
    assert "opened on as many devices as it allows" in html
    assert GiftLink.objects.get(pk=given.link.pk).opens == 3


def test_the_link_opens_until_the_second_it_expires(article, given):
    expires_at = given.link.expires_at
    assert expires_at == given.link.created_at + timedelta(days=14)

    with time_machine.travel(expires_at - timedelta(seconds=1), tick=False):
        before = api_read(app(), article, given.token).json()
    with time_machine.travel(expires_at, tick=False):
        after = api_read(app(), article, given.token).json()
        html = page(Client(), article, given.token).content.decode()

    assert before["access"] == {"granted": True, "reason": "gift_link"}
    assert after["access"]["granted"] is False and "body" not in after
    assert after["gift_link"] == {"state": "expired", "message": "This gift link has expired"}
    assert MARKER not in html and "This gift link has expired." in html
    assert "Sign up to read this article" in html


def test_a_withdrawn_link_opens_nothing_even_where_it_opened_before(article, given):
    device = device_id_new()
    assert api_read(app(device), article, given.token).json()["access"]["granted"]

    gift_link_revoke(link=given.link)
    answer = api_read(app(device), article, given.token).json()

    assert answer["access"]["granted"] is False and "body" not in answer
    assert answer["gift_link"]["state"] == "revoked"
    html = page(Client(), article, given.token).content.decode()
    assert "This gift link has been withdrawn." in html and MARKER not in html


def test_a_token_for_another_article_grants_nothing(article, given):
    other = ArticleFactory(title=article.title)

    answer = api_read(app(), other, given.token).json()
    html = page(Client(), other, given.token).content.decode()

    assert answer["access"]["granted"] is False and "body" not in answer
    assert answer["gift_link"]["state"] == "other_article"
    assert MARKER not in html and "This gift link is for another article." in html
    assert GiftLink.objects.get(pk=given.link.pk).opens == 0


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t[:20],
        lambda t: t + "x",
        lambda t: "\x00" + t[1:],
        lambda t: "é" * 43,
        lambda t: t * 50,
        lambda t: "%",
    ],
)
def test_a_tampered_or_malformed_token_grants_nothing_and_never_fails(article, given, tamper):
    token = tamper(given.token)

    response = api_read(app(), article, token)
    html = page(Client(), article, token)

    assert response.status_code == 200 and html.status_code == 200
    assert "body" not in response.json()
    assert MARKER not in html.content.decode()
    assert GiftLink.objects.get(pk=given.link.pk).opens == 0


def test_a_crawler_or_link_preview_gets_the_teaser_and_uses_no_open(article, given):
    preview = Client(HTTP_USER_AGENT="WhatsApp/2.23.20.0 A")

    html = preview.get(f"/a/{article.pk}/?gift={given.token}").content.decode()
    answer = api_read(APIClient(HTTP_USER_AGENT="Googlebot/2.1"), article, given.token).json()

    assert MARKER not in html and "body" not in answer
    assert GiftLink.objects.get(pk=given.link.pk).opens == 0


def test_a_reader_with_access_of_their_own_uses_no_open(article, given):
    reader = UserFactory()
    EntitlementFactory(user=reader, starts_at=timezone.now() - timedelta(days=1))
    client = APIClient()
    client.force_login(reader)

    answer = api_read(client, article, given.token).json()

    assert answer["access"]["reason"] == "comp" and "gift_link" not in answer
    assert GiftLink.objects.get(pk=given.link.pk).opens == 0


@pytest.mark.django_db(transaction=True)
def test_parallel_first_opens_never_exceed_the_limit(settings):
    settings.GIFT_LINK_MAX_OPENS = 3
    article = ArticleFactory()
    giver = UserFactory()
    EntitlementFactory(user=giver, source="subscription")
    token = gift_link_create(giver=giver, article=article).token
    granted: list[bool] = []

    def read() -> None:
        try:
            granted.append(api_read(app(), article, token).json()["access"]["granted"])
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(granted) == [False] * 5 + [True] * 3
    assert GiftLinkOpen.objects.count() == 3 and GiftLink.objects.get().opens == 3


def test_a_head_request_opens_nothing_and_uses_no_open(article, given):
    browser = Client()

    head = browser.head(f"/a/{article.pk}/?gift={given.token}")
    api_head = app().head(f"/api/v1/articles/{article.pk}/", {"gift": given.token})

    assert head.status_code == 405 and api_head.status_code == 200  # the pages answer GET only
    assert GiftLink.objects.get(pk=given.link.pk).opens == 0
    assert MARKER in page(browser, article, given.token).content.decode()
    assert GiftLink.objects.get(pk=given.link.pk).opens == 1
