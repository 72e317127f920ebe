"""GET /api/v1/support/access/: the paywall's own decision for a reader on an article, with
the entitlements considered and the events behind them; staff only."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from membership.access import article_access
from membership.models import Article
from membership.services import comp_grant, reader_payment_issue_set, trial_start
from tests.api.conftest import session_token_for
from tests.factories import ArticleFactory, StaffFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/support/access/"


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    """Argon2 costs ~90 ms a password; the promise under test is not the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_client() -> APIClient:
    return APIClient(HTTP_X_SESSION_TOKEN=session_token_for(StaffFactory()))


def trialling() -> User:
    reader = UserFactory()
    trial_start(user=reader)
    return reader


def lapsed() -> User:
    reader = UserFactory()
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        trial_start(user=reader)
    reader.refresh_from_db()
    return reader


def comp_elsewhere() -> User:
    reader = lapsed()
    comp_grant(
        user=reader,
        ends_at=timezone.now() + timedelta(days=5),
        note="Other title",
        actor=None,
        titles=[TitleFactory()],
    )
    return reader


def payment_failing() -> User:
    reader = lapsed()
    reader_payment_issue_set(user=reader, since=timezone.now())
    reader.refresh_from_db()
    return reader


READERS = {
    "never_trialled": UserFactory,
    "trialling": trialling,
    "lapsed": lapsed,
    "comp_elsewhere": comp_elsewhere,
    "payment_failing": payment_failing,
}


def test_the_url_is_named() -> None:
    assert reverse("membership:support-access") == URL


@pytest.mark.parametrize("state", sorted(READERS))
@pytest.mark.parametrize("free", [False, True])
def test_the_decision_is_the_paywalls_own(staff_client: APIClient, state: str, free: bool) -> None:
    reader = READERS[state]()
    article = ArticleFactory(is_free=free)

    response = staff_client.get(URL, {"reader": reader.email, "article": article.pk})

    assert response.status_code == 200, response.json()
    decision = article_access(
        reader=reader, article=Article.objects.select_related("title").get(pk=article.pk)
    )
    assert response.json()["decision"] == {
        "granted": decision.granted,
        "reason": decision.reason.value,
    }


def test_the_answer_lists_the_rows_considered_and_the_timeline(staff_client: APIClient) -> None:
    reader = comp_elsewhere()
    article = ArticleFactory(title=TitleFactory(name="The Courier", slug="the-courier"))

    body = staff_client.get(URL, {"reader": reader.email.upper(), "article": article.pk}).json()

    assert body["reader"]["email"] == reader.email
    assert body["article"]["id"] == article.pk
    assert body["title"]["slug"] == "the-courier"
    assert body["decision"] == {"granted": False, "reason": "subscribe"}
    assert body["summary"].startswith("Denied: no live entitlement covers The Courier")
    by_source = {row["source"]: row for row in body["entitlements"]}
    assert by_source["comp"]["state"] == "live" and by_source["comp"]["covers"] is False
    assert by_source["trial"]["state"] == "ended" and by_source["trial"]["titles"] == [
        "every title"
    ]
    assert not any(row["counts"] for row in body["entitlements"])
    kinds = [(entry["subject"].split(" #")[0], entry["kind"]) for entry in body["timeline"]]
    assert kinds == [
        ("Trial", "Started"),
        ("Free trial entitlement", "Granted"),
        ("Complimentary entitlement", "Granted"),
    ]
    assert response_is_private(staff_client.get(URL, {"reader": reader.email, "article": 1}))


def response_is_private(response: Any) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def test_a_title_asks_about_any_premium_article_of_it(staff_client: APIClient) -> None:
    reader = trialling()
    title = TitleFactory(slug="the-courier")

    body = staff_client.get(URL, {"reader": reader.email, "title": "the-courier"}).json()

    assert body["article"] is None and body["title"]["name"] == title.name
    assert body["decision"] == {"granted": True, "reason": "trial"}
    assert [row["counts"] for row in body["entitlements"]] == [True]


def test_a_reader_is_refused(premium_article: Article) -> None:
    reader = UserFactory()
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))

    response = client.get(URL, {"reader": reader.email, "article": premium_article.pk})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_anonymous_client_is_asked_to_sign_in(premium_article: Article) -> None:
    response = APIClient().get(URL, {"reader": "x@example.com", "article": premium_article.pk})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "reader"),
        ({"reader": "not-an-email", "article": 1}, "reader"),
        ({"reader": "a@example.com"}, "non_field_errors"),
        ({"reader": "a@example.com", "article": 1, "title": "x"}, "non_field_errors"),
        ({"reader": "a@example.com", "article": "abc"}, "article"),
        ({"reader": "a@example.com", "article": "-3"}, "article"),
        ({"reader": "a@example.com", "article": "9" * 40}, "article"),
        ({"reader": "a@example.com", "title": "no spaces\x00"}, "title"),
    ],
)
def test_bad_input_is_a_400_with_a_code(
    staff_client: APIClient, query: dict[str, str], field: str
) -> None:
    response = staff_client.get(URL, query)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and field in error["fields"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"reader": "nobody@example.com", "article": "ARTICLE"}, "no reader"),
        ({"reader": "READER", "article": 999999}, "no article"),
        ({"reader": "READER", "title": "no-such-title"}, "no title"),
    ],
)
def test_an_unknown_reader_article_or_title_is_a_404(
    staff_client: APIClient, premium_article: Article, query: dict[str, Any], message: str
) -> None:
    reader = UserFactory()
    filled = {
        key: {"ARTICLE": premium_article.pk, "READER": reader.email}.get(value, value)
        for key, value in query.items()
    }

    response = staff_client.get(URL, filled)

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and message in error["message"]
