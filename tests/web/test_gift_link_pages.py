"""Gift links on the pages: giving one from the article, the giver's list on the account page."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from membership.models import EntitlementSource, GiftLink
from membership.services import trial_start
from tests.factories import ArticleFactory, EntitlementFactory, UserFactory

pytestmark = pytest.mark.django_db


def subscriber():  # type: ignore[no-untyped-def]
    reader = UserFactory()
    EntitlementFactory(
        user=reader,
        source=EntitlementSource.SUBSCRIPTION,
        starts_at=datetime(2020, 1, 1, tzinfo=UTC),
        ends_at=datetime(2035, 1, 1, tzinfo=UTC),
    )
    return reader


def signed_in(reader) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(reader)
    return client


def test_a_subscriber_gives_a_link_from_the_article_and_finds_it_on_the_account_page(settings):
    settings.SITE_URL = "https://news.example.com"
    article = ArticleFactory()
    client = signed_in(subscriber())
    assert "Gift this article" in client.get(article.get_absolute_url()).content.decode()

    response = client.post(f"/articles/{article.pk}/gift/", follow=True)

    html = response.content.decode()
    link = GiftLink.objects.get()
    assert response.redirect_chain[-1][0] == "/account/#gift-links"
    assert f"Your gift link to “{article.headline}” is ready" in html
    assert "9 of 10 gift links left this month, 1 given" in html
    assert f'value="https://news.example.com/a/{article.pk}/?gift=' in html
    again = client.post(f"/articles/{article.pk}/gift/", follow=True).content.decode()
    assert "was given this month already, at no cost" in again
    assert GiftLink.objects.get() == link


def test_a_trialling_reader_is_not_offered_a_gift_and_is_told_why_when_trying():
    reader = UserFactory()
    trial_start(user=reader)
    article = ArticleFactory()
    client = signed_in(reader)

    page = client.get(article.get_absolute_url()).content.decode()
    response = client.post(f"/articles/{article.pk}/gift/", follow=True)

    assert "Gift this article" not in page
    assert response.redirect_chain[-1][0] == article.get_absolute_url()
    assert "Gift links are for members with a paid subscription" in response.content.decode()
    assert not GiftLink.objects.exists()


def test_an_anonymous_reader_is_sent_to_sign_in_and_a_get_is_refused():
    article = ArticleFactory()

    response = Client().post(f"/articles/{article.pk}/gift/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Client().get(f"/articles/{article.pk}/gift/").status_code == 405
    assert Client().post("/articles/999999/gift/").status_code == 404


def test_the_short_address_without_a_gift_sends_the_reader_to_the_article():
    article = ArticleFactory()

    response = Client().get(f"/a/{article.pk}/")

    assert response.status_code == 302 and response["Location"] == f"/articles/{article.pk}/"
    assert Client().get("/a/999999/").status_code == 404
    assert Client().get(f"/a/{article.pk}/?gift=").status_code == 302
