"""GET /api/v1/articles/ and /api/v1/articles/{id}/: teasers, the body, the paywall."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from membership.models import EntitlementSource
from membership.services import entitlement_grant, trial_start
from tests.api.conftest import MARKER
from tests.factories import ArticleFactory, TitleFactory, UserFactory

# The entitlement paywall alone: the meter is off (its own tests are in test_meter*.py).
pytestmark = pytest.mark.usefixtures("meter_off")

ARTICLES = "/api/v1/articles/"
TEASER_KEYS = {
    "id",
    "title",
    "headline",
    "standfirst",
    "lead",
    "author",
    "section",
    "published_at",
    "access",
}


@pytest.fixture
def lapsed_client(db) -> APIClient:  # type: ignore[no-untyped-def]
    """A reader whose trial has ended."""
    reader = UserFactory()
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        trial_start(user=reader)
    client = APIClient()
    client.force_login(reader)
    return client


@pytest.fixture
def denied_clients(db, api_client, reader_client, lapsed_client):  # type: ignore[no-untyped-def]
    return {"sign_up": api_client, "start_trial": reader_client, "subscribe": lapsed_client}


def test_article_detail_gives_a_granted_reader_the_body_and_no_paywall(
    reader, reader_client, premium_article
):
    trial_start(user=reader)

    response = reader_client.get(f"{ARTICLES}{premium_article.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert set(data) == TEASER_KEYS | {"body"}
    assert data["access"] == {"granted": True, "reason": "trial"}
    assert data["body"] == premium_article.body
    assert data["title"] == {"slug": "the-courier", "name": "The Courier"}
    assert data["lead"] == "The opening paragraph sets the scene."


def test_article_detail_url_is_the_articles_absolute_url(premium_article):
    assert premium_article.get_absolute_url() == f"/articles/{premium_article.pk}/"
    assert reverse("membership:article-detail", kwargs={"pk": 7}) == f"{ARTICLES}7/"


@pytest.mark.parametrize(
    ("reason", "message", "kinds"),
    [
        ("sign_up", "Sign up to read this article", ["sign_up", "sign_in"]),
        ("start_trial", "Start your 14-day free trial", ["start_trial", "choose_plan"]),
        (
            "subscribe",
            "Your free trial has ended. Choose a plan to keep reading",
            ["choose_plan"],
        ),
    ],
)
def test_article_detail_shows_a_denied_reader_the_teaser_and_the_paywall(
    denied_clients, premium_article, reason, message, kinds
):
    response = denied_clients[reason].get(f"{ARTICLES}{premium_article.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert set(data) == TEASER_KEYS | {"paywall"}
    assert data["access"] == {"granted": False, "reason": reason}
    assert data["paywall"]["reason"] == reason
    assert data["paywall"]["message"] == message
    assert [action["kind"] for action in data["paywall"]["actions"]] == kinds
    assert MARKER not in response.content.decode()


def test_paywall_actions_say_how_to_sign_up_and_sign_in(api_client, premium_article):
    actions = api_client.get(f"{ARTICLES}{premium_article.pk}/").json()["paywall"]["actions"]

    assert actions == [
        {
            "kind": "sign_up",
            "label": "Sign up",
            "method": "POST",
            "url": "/_allauth/app/v1/auth/signup",
            "params": {},
        },
        {
            "kind": "sign_in",
            "label": "Already a member? Sign in",
            "method": "POST",
            "url": "/_allauth/app/v1/auth/login",
            "params": {},
        },
    ]


def test_a_free_article_is_read_in_full_by_anyone(api_client, free_article):
    data = api_client.get(f"{ARTICLES}{free_article.pk}/").json()

    assert data["access"] == {"granted": True, "reason": "free_article"}
    assert MARKER in data["body"]
    assert "paywall" not in data


@pytest.mark.parametrize("path", ["0/", "999999/", "abc/", "1.5/", "-1/", f"{10**30}/"])
def test_article_detail_answers_a_bad_or_unknown_id_with_a_json_404(api_client, db, path):
    response = api_client.get(f"{ARTICLES}{path}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_article_detail_refuses_other_methods_with_a_json_405(reader_client, premium_article):
    response = reader_client.delete(f"{ARTICLES}{premium_article.pk}/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("offset", "granted"), [(-timedelta(seconds=1), True), (timedelta(0), False)]
)
def test_access_through_the_api_ends_at_the_second_the_window_ends(
    reader, premium_article, offset, granted
):
    ends_at = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    entitlement_grant(user=reader, source=EntitlementSource.COMP, ends_at=ends_at)

    with time_machine.travel(ends_at + offset, tick=False):
        client = APIClient()
        client.force_login(reader)
        detail = client.get(f"{ARTICLES}{premium_article.pk}/").json()
        teaser = client.get(ARTICLES).json()["results"][0]

    assert detail["access"]["granted"] is granted
    assert ("body" in detail) is granted
    assert teaser["access"]["granted"] is granted


def test_a_trial_read_through_the_api_ends_at_its_end(reader, premium_article):
    trial = trial_start(user=reader)

    with time_machine.travel(trial.ends_at - timedelta(seconds=1), tick=False):
        client = APIClient()
        client.force_login(reader)
        before = client.get(f"{ARTICLES}{premium_article.pk}/").json()
    with time_machine.travel(trial.ends_at, tick=False):
        client.force_login(reader)
        after = client.get(f"{ARTICLES}{premium_article.pk}/").json()

    assert before["access"] == {"granted": True, "reason": "trial"}
    assert after["access"] == {"granted": False, "reason": "subscribe"}
    assert "body" not in after


def test_article_list_gives_teasers_with_access_and_never_a_body(reader, reader_client):
    courier = TitleFactory(slug="courier")
    herald = TitleFactory(slug="herald")
    covered = ArticleFactory(title=courier)
    uncovered = ArticleFactory(title=herald)
    free = ArticleFactory(title=herald, is_free=True)
    entitlement_grant(
        user=reader,
        source=EntitlementSource.SUBSCRIPTION,
        ends_at=timezone.now() + timedelta(days=30),
        titles=[courier],
    )

    response = reader_client.get(ARTICLES)

    assert response.status_code == 200
    results = response.json()["results"]
    assert all(set(item) == TEASER_KEYS for item in results)
    assert {item["id"]: item["access"] for item in results} == {
        covered.pk: {"granted": True, "reason": "subscription"},
        uncovered.pk: {"granted": False, "reason": "upgrade"},
        free.pk: {"granted": True, "reason": "free_article"},
    }
    assert MARKER not in response.content.decode()


def test_article_list_pages_newest_first(api_client, db):
    now = timezone.now()
    articles = [ArticleFactory(published_at=now - timedelta(hours=n)) for n in range(3)]

    data = api_client.get(ARTICLES, {"page_size": 2}).json()

    assert data["count"] == 3
    assert [item["id"] for item in data["results"]] == [articles[0].pk, articles[1].pk]
    assert data["next"]


def test_article_list_filters_by_title(api_client, db):
    wanted = ArticleFactory(title=TitleFactory(slug="courier"))
    ArticleFactory(title=TitleFactory(slug="herald"))

    results = api_client.get(ARTICLES, {"title": "courier"}).json()["results"]

    assert [item["id"] for item in results] == [wanted.pk]


def test_article_list_refuses_an_unknown_title_with_a_400(api_client, db):
    response = api_client.get(ARTICLES, {"title": "no-such-title"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "title" in error["fields"]


def test_article_list_answers_a_page_past_the_end_with_a_json_404(api_client, db):
    response = api_client.get(ARTICLES, {"page": "99"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_article_list_costs_the_same_queries_for_many_articles(
    reader, reader_client, django_assert_max_num_queries
):
    titles = [TitleFactory() for _ in range(5)]
    for title in titles:
        entitlement_grant(
            user=reader,
            source=EntitlementSource.COMP,
            ends_at=timezone.now() + timedelta(days=1),
            titles=[title],
        )
    for n in range(40):
        ArticleFactory(title=titles[n % 5])

    # session, user, count, page, the reader's coverage
    with django_assert_max_num_queries(5):
        results = reader_client.get(ARTICLES, {"page_size": 40}).json()["results"]

    assert len(results) == 40
    assert all(item["access"]["granted"] for item in results)


@pytest.mark.parametrize("reason", ["sign_up", "start_trial", "subscribe"])
def test_no_answer_to_a_denied_reader_holds_a_premium_body(denied_clients, premium_article, reason):
    client = denied_clients[reason]
    answers = [
        client.get(ARTICLES),
        client.get(ARTICLES, {"title": premium_article.title.slug}),
        client.get(f"{ARTICLES}{premium_article.pk}/"),
    ]

    assert all(answer.status_code == 200 for answer in answers)
    assert all(MARKER not in answer.content.decode() for answer in answers)
