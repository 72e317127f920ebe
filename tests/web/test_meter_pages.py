"""The meter on the reader's pages: the device cookie, the counter, the registration wall."""

import pytest
from django.test import Client

from membership.devices import DEVICE_COOKIE
from membership.meter_models import MeterRead
from tests.factories import ArticleFactory, TitleFactory, UserFactory
from tests.web.conftest import MARKER

pytestmark = pytest.mark.django_db


@pytest.fixture
def three():  # type: ignore[no-untyped-def]
    paper = TitleFactory(name="The Harbour Gazette", slug="harbour-gazette")
    return [ArticleFactory(title=paper) for _ in range(3)]


def page(client: Client, article) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/articles/{article.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_first_visit_sets_a_signed_httponly_lax_device_cookie(client, three) -> None:
    response = client.get(f"/articles/{three[0].pk}/")

    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] and ":" in cookie.value  # value:signature
    assert MARKER in response.content.decode()


def test_a_visitor_reads_two_with_a_counter_then_meets_the_registration_wall(client, three) -> None:
    first, second, third = (page(client, article) for article in three)

    assert "1 of 2 free articles this month" in first and MARKER in first
    assert "2 of 2 free articles this month" in second and MARKER in second
    assert MARKER not in third
    assert "Create a free account to read 5 articles a month" in third
    assert "2 of 2 free articles this month" in third
    assert client.cookies[DEVICE_COOKIE].value  # the same device throughout
    assert MeterRead.objects.values("subject").distinct().count() == 1


def test_a_signed_in_reader_sees_their_count_of_five(client, three) -> None:
    client.force_login(UserFactory())

    html = page(client, three[0])

    assert "1 of 5 free articles this month" in html and MARKER in html


def test_a_tampered_cookie_is_a_new_device_with_nothing_used(client, three) -> None:
    page(client, three[0])
    page(client, three[1])
    assert MARKER not in page(client, three[2])

    value = client.cookies[DEVICE_COOKIE].value
    client.cookies[DEVICE_COOKIE] = "f" * 32 + value[32:]
    html = page(client, three[2])

    assert "1 of 2 free articles this month" in html and MARKER in html
    assert client.cookies[DEVICE_COOKIE].value != value


def test_the_registration_wall_is_not_offered_when_the_registered_meter_is_off(
    client, three, settings
) -> None:
    settings.METER_REGISTERED = 0
    for article in three[:2]:
        page(client, article)

    html = page(client, three[2])

    assert "Sign up to read this article" in html and "Create a free account" not in html


def test_a_crawler_gets_the_teaser_without_a_cookie_or_a_count(client, three) -> None:
    response = client.get(
        f"/articles/{three[0].pk}/",
        HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )

    assert MARKER not in response.content.decode()
    assert DEVICE_COOKIE not in response.cookies
    assert not MeterRead.objects.exists()


def test_lists_and_free_articles_count_nothing_and_set_no_cookie(client, three) -> None:
    free = ArticleFactory(is_free=True)

    home = client.get("/")
    title = client.get("/titles/harbour-gazette/")
    open_article = client.get(f"/articles/{free.pk}/")

    assert all(r.status_code == 200 for r in (home, title, open_article))
    assert not any(DEVICE_COOKIE in r.cookies for r in (home, title, open_article))
    assert not MeterRead.objects.exists()


def test_signing_in_on_the_web_brings_the_devices_reads_along(client, three) -> None:
    from tests.factories import PASSWORD

    reader = UserFactory()
    page(client, three[0])
    page(client, three[1])

    response = client.post("/accounts/login/", {"login": reader.email, "password": PASSWORD})
    assert response.status_code == 302

    assert "3 of 5 free articles this month" in page(client, three[2])
    assert "1 of 5" not in page(client, three[0])  # a re-read, still 3
