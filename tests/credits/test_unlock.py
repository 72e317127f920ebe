"""Credits: a paid pack adds credits once; a credit unlocks one article for good; unlocking
twice spends once; no credits is 402; a refund removes the unspent credits of its pack."""

import pytest
from rest_framework.test import APIClient

from membership.access import article_access, reader_coverage
from membership.models import CreditAccount, CreditUnlock, Entitlement
from membership.services import credit_spend, credits_add, credits_refund
from tests.factories import ArticleFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meter_off")]


def client_of(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def unlock_url(article) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/articles/{article.pk}/unlock/"


def balance(user) -> int:  # type: ignore[no-untyped-def]
    return CreditAccount.objects.get(user=user).balance


def test_a_pack_adds_its_credits_once_per_session() -> None:
    reader = UserFactory()

    _, first = credits_add(user=reader, reference="cs_1", credits=5, pack="Five")
    _, again = credits_add(user=reader, reference="cs_1", credits=5, pack="Five")

    assert (first, again) == (True, False)
    assert balance(reader) == 5


def test_a_denied_reader_with_credits_is_offered_to_unlock() -> None:
    reader = UserFactory()
    article = ArticleFactory()
    credits_add(user=reader, reference="cs_1", credits=2, pack="Two")

    paywall = client_of(reader).get(f"/api/v1/articles/{article.pk}/").json()["paywall"]

    first = paywall["actions"][0]
    assert first["kind"] == "unlock_with_credit"
    assert first["label"] == "Unlock this article with 1 credit"
    assert (first["method"], first["url"]) == ("POST", unlock_url(article))
    assert paywall["credits"] == 2


def test_a_reader_without_credits_is_not_offered_to_unlock() -> None:
    reader = UserFactory()
    article = ArticleFactory()

    paywall = client_of(reader).get(f"/api/v1/articles/{article.pk}/").json()["paywall"]

    assert "unlock_with_credit" not in [a["kind"] for a in paywall["actions"]]


def test_unlocking_spends_one_credit_and_opens_that_article_only_for_good() -> None:
    reader = UserFactory()
    article, other = ArticleFactory(), ArticleFactory()
    credits_add(user=reader, reference="cs_1", credits=3, pack="Three")

    response = client_of(reader).post(unlock_url(article))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["credits"] == 2
    assert body["article"]["body"] == article.body
    assert body["article"]["access"] == {"granted": True, "reason": "credit"}
    assert article_access(reader=reader, article=article).reason == "credit"
    assert article_access(reader=reader, article=other).granted is False
    coverage = reader_coverage(reader=reader)
    assert coverage.decide(article).granted and not coverage.decide(other).granted
    entitlement = Entitlement.objects.get(user=reader, source="credit")
    assert entitlement.article == article and entitlement.ends_at.year == 9999


def test_unlocking_twice_spends_once() -> None:
    reader = UserFactory()
    article = ArticleFactory()
    credits_add(user=reader, reference="cs_1", credits=3, pack="Three")

    client_of(reader).post(unlock_url(article))
    again = client_of(reader).post(unlock_url(article))

    assert again.status_code == 201
    assert again.json()["credits"] == 2
    assert CreditUnlock.objects.filter(user=reader).count() == 1


def test_no_credits_is_402() -> None:
    reader = UserFactory()
    article = ArticleFactory()

    response = client_of(reader).post(unlock_url(article))

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "no_credits"
    assert article_access(reader=reader, article=article).granted is False


def test_an_anonymous_visitor_and_a_missing_article_are_refused(api_client) -> None:
    article = ArticleFactory()
    reader = UserFactory()
    credits_add(user=reader, reference="cs_1", credits=1, pack="One")

    assert api_client.post(unlock_url(article)).status_code in (401, 403)
    assert client_of(reader).post("/api/v1/articles/999999/unlock/").status_code == 404
    assert (
        client_of(reader)
        .post(unlock_url(article), "[1]", content_type="application/json")
        .status_code
        == 400
    )
    assert balance(reader) == 1


def test_an_article_already_readable_spends_nothing() -> None:
    reader = UserFactory()
    free = ArticleFactory(is_free=True)
    credits_add(user=reader, reference="cs_1", credits=1, pack="One")

    response = client_of(reader).post(unlock_url(free))

    assert (response.status_code, response.json()["error"]["code"]) == (409, "already_readable")
    assert balance(reader) == 1


def test_a_refund_removes_the_unspent_credits_of_its_pack_only() -> None:
    reader = UserFactory()
    credits_add(user=reader, reference="cs_old", credits=2, pack="Two", payment_ref="pi_old")
    credits_add(user=reader, reference="cs_new", credits=5, pack="Five", payment_ref="pi_new")
    kept = ArticleFactory()
    credit_spend(user=reader, article=kept)  # spent from the older pack first

    credits_refund(payment_ref="pi_old")
    credits_refund(payment_ref="pi_old")

    assert balance(reader) == 5
    assert article_access(reader=reader, article=kept).reason == "credit"
    credits_refund(reference="cs_new")
    assert balance(reader) == 0


def test_me_shows_the_balance_and_unlocked_articles() -> None:
    reader = UserFactory()
    article = ArticleFactory()
    credits_add(user=reader, reference="cs_1", credits=2, pack="Two")
    credit_spend(user=reader, article=article)

    me = client_of(reader).get("/api/v1/me/").json()

    assert me["credits"]["balance"] == 1
    assert [u["id"] for u in me["credits"]["unlocked"]] == [article.pk]
    assert me["credits"]["unlocked"][0]["headline"] == article.headline
    assert any(e["source"] == "credit" and e["article"] == article.pk for e in me["entitlements"])


def test_the_article_page_offers_and_performs_the_unlock(client) -> None:
    reader = UserFactory()
    article = ArticleFactory()
    credits_add(user=reader, reference="cs_1", credits=1, pack="One")
    client.force_login(reader)

    page = client.get(f"/articles/{article.pk}/").content.decode()
    assert "Unlock this article with 1 credit" in page
    assert article.body.split("\n\n")[-1] not in page

    response = client.post(f"/articles/{article.pk}/unlock/", follow=True)

    assert article.body.split("\n\n")[-1] in response.content.decode()
    assert balance(reader) == 0


def test_the_unlock_offer_costs_no_extra_query(django_assert_max_num_queries) -> None:
    reader = UserFactory()
    article = ArticleFactory()
    credits_add(user=reader, reference="cs_1", credits=2, pack="Two")
    client = APIClient()
    client.force_login(reader)

    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/articles/{article.pk}/")

    paywall = response.json()["paywall"]
    assert paywall["actions"][0]["kind"] == "unlock_with_credit"
    assert paywall["credits"] == 2
