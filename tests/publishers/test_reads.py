"""POST /api/v1/articles/{id}/reads/: the read ledger, one row per reader, article and day."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from membership.models import EntitlementSource
from publishers.models import ReadRow
from tests.api.conftest import session_token_for
from tests.factories import ArticleFactory, EntitlementFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meter_off")]


def _url(article) -> str:  # type: ignore[no-untyped-def]
    return reverse("publishers:article-reads", kwargs={"pk": article.pk})


def _member(source: str = EntitlementSource.SUBSCRIPTION):  # type: ignore[no-untyped-def]
    reader = UserFactory()
    EntitlementFactory(user=reader, source=source)
    return reader


def _client(user) -> APIClient:  # type: ignore[no-untyped-def]
    return APIClient(HTTP_X_SESSION_TOKEN=session_token_for(user))


def test_a_subscriber_report_makes_one_row_with_its_source() -> None:
    reader, article = _member(), ArticleFactory()

    answer = _client(reader).post(_url(article), {"seconds": 20, "progress": 0.2}, format="json")

    assert answer.status_code == 200
    assert answer.json() == {
        "counted": True,
        "seconds": 20,
        "qualified": False,
        "source": "subscription",
    }
    row = ReadRow.objects.get()
    assert (row.user, row.article, row.title, row.source) == (
        reader,
        article,
        article.title,
        "subscription",
    )
    assert row.day == timezone.now().astimezone(UTC).date()
    assert "no-store" in answer["Cache-Control"]


def test_reports_accumulate_into_one_row_and_qualify_at_thirty_seconds() -> None:
    reader, article = _member(EntitlementSource.TRIAL), ArticleFactory()
    client = _client(reader)

    client.post(_url(article), {"seconds": 15, "progress": 0.1}, format="json")
    answer = client.post(_url(article), {"seconds": 15, "progress": 0.05}, format="json")

    row = ReadRow.objects.get()
    assert (row.seconds, row.qualified, row.source, row.progress) == (30, True, "trial", 0.1)
    assert answer.json()["qualified"] is True


def test_progress_past_half_qualifies_a_short_read() -> None:
    reader, article = _member(EntitlementSource.COMP), ArticleFactory()

    _client(reader).post(_url(article), {"seconds": 3, "progress": 0.5}, format="json")

    assert ReadRow.objects.get().qualified is True


def test_seconds_are_capped_per_report_and_per_day(settings) -> None:  # type: ignore[no-untyped-def]
    settings.READ_REPORT_MAX_SECONDS = 60
    settings.READ_DAY_MAX_SECONDS = 150
    reader, article = _member(), ArticleFactory()
    client = _client(reader)

    first = client.post(_url(article), {"seconds": 86400, "progress": 0}, format="json")
    for _ in range(4):
        client.post(_url(article), {"seconds": 60, "progress": 0}, format="json")

    assert first.json()["seconds"] == 60
    assert ReadRow.objects.get().seconds == 150


def test_a_new_day_starts_a_new_row() -> None:
    reader, article = _member(), ArticleFactory()
    client = _client(reader)
    with time_machine.travel(datetime(2026, 11, 3, 23, 59, tzinfo=UTC), tick=False):
        EntitlementFactory(user=reader, source=EntitlementSource.SUBSCRIPTION)
        client.post(_url(article), {"seconds": 10, "progress": 0}, format="json")
    with time_machine.travel(datetime(2026, 11, 4, 0, 1, tzinfo=UTC), tick=False):
        client.post(_url(article), {"seconds": 10, "progress": 0}, format="json")

    assert sorted(ReadRow.objects.values_list("day", "seconds")) == [
        (datetime(2026, 11, 3).date(), 10),
        (datetime(2026, 11, 4).date(), 10),
    ]


def test_a_reader_without_access_is_refused_and_nothing_is_recorded() -> None:
    lapsed = UserFactory()
    EntitlementFactory(
        user=lapsed,
        starts_at=timezone.now() - timedelta(days=30),
        ends_at=timezone.now() - timedelta(days=1),
    )

    answer = _client(lapsed).post(
        _url(ArticleFactory()), {"seconds": 40, "progress": 1}, format="json"
    )

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "read_not_granted"
    assert not ReadRow.objects.exists()


def test_an_anonymous_report_is_refused(api_client: APIClient) -> None:
    answer = api_client.post(_url(ArticleFactory()), {"seconds": 40, "progress": 1}, format="json")

    assert answer.status_code == 401
    assert not ReadRow.objects.exists()


def test_an_open_article_is_not_counted() -> None:
    answer = _client(_member()).post(
        _url(ArticleFactory(is_free=True)), {"seconds": 40, "progress": 1}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json()["counted"] is False
    assert not ReadRow.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"seconds": -1, "progress": 0.5},
        {"seconds": 10, "progress": 1.5},
        {"seconds": "ten", "progress": 0.5},
        {"progress": 0.5},
        {"seconds": 10},
    ],
)
def test_bad_input_is_a_400(body: dict) -> None:  # type: ignore[type-arg]
    answer = _client(_member()).post(_url(ArticleFactory()), body, format="json")

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_input"
    assert not ReadRow.objects.exists()


def test_an_unknown_article_is_a_404() -> None:
    answer = _client(_member()).post(
        "/api/v1/articles/99999999/reads/", {"seconds": 1, "progress": 0}, format="json"
    )

    assert answer.status_code == 404


def test_a_beacon_form_post_with_the_csrf_token_counts() -> None:
    """The page's beacon: the session cookie and the token in a form body, no header."""
    reader, article = _member(), ArticleFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reader)
    page = browser.get(article.get_absolute_url())
    token = page.context["csrf_token"]
    assert reverse("publishers:article-reads", kwargs={"pk": article.pk}) in page.content.decode()

    form = "application/x-www-form-urlencoded;charset=UTF-8"
    refused = browser.post(_url(article), "seconds=31&progress=0.2", content_type=form)
    answer = browser.post(
        _url(article),
        urlencode({"seconds": "31", "progress": "0.2", "csrfmiddlewaretoken": str(token)}),
        content_type=form,
    )

    assert refused.status_code == 403
    assert answer.status_code == 200
    assert ReadRow.objects.get().seconds == 31


def test_the_page_of_a_reader_without_access_sends_no_beacon(settings) -> None:  # type: ignore[no-untyped-def]
    settings.METER_REGISTERED = 0
    article = ArticleFactory()
    browser = Client()
    browser.force_login(UserFactory())

    page = browser.get(article.get_absolute_url())

    assert _url(article) not in page.content.decode()


def test_a_report_costs_few_queries(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    reader, article = _member(), ArticleFactory()
    client = _client(reader)
    client.post(_url(article), {"seconds": 1, "progress": 0}, format="json")

    with django_assert_max_num_queries(6):
        client.post(_url(article), {"seconds": 1, "progress": 0}, format="json")


def test_a_metered_read_counts_only_once_the_page_opened_it() -> None:
    """The beacon decides like the page without spending the meter: an article the meter
    opened this month counts (source ``metered``, earning nothing); another does not."""
    reader, opened, other = UserFactory(), ArticleFactory(), ArticleFactory()
    browser = Client()
    browser.force_login(reader)
    assert browser.get(opened.get_absolute_url()).context["decision"].reason == "metered"
    client = _client(reader)

    counted = client.post(_url(opened), {"seconds": 40, "progress": 0.2}, format="json")
    refused = client.post(_url(other), {"seconds": 40, "progress": 0.2}, format="json")

    assert counted.status_code == 200
    assert counted.json()["source"] == "metered"
    assert refused.status_code == 403
    assert list(ReadRow.objects.values_list("article_id", "source")) == [(opened.pk, "metered")]
