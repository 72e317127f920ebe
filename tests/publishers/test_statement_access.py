"""Publisher staff see their own titles' statements only: API, CSV and admin."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from publishers.models import Statement, TitleStaff
from publishers.statements import month_close
from tests.factories import StaffFactory, TitleFactory, UserFactory
from tests.publishers.history import AFTER_NOV, IN_NOV, NOV, paid, read

pytestmark = pytest.mark.django_db
LIST = "/api/v1/publishers/statements/"


@pytest.fixture
def closed():  # type: ignore[no-untyped-def]
    """November closed for two titles of two publishers, each with its own staff member."""
    own, other = TitleFactory(slug="own-title"), TitleFactory(slug="other-title")
    payer = UserFactory()
    paid(payer, 1000, IN_NOV)
    read(payer, own, NOV.replace(day=5), 90)
    read(payer, other, NOV.replace(day=6), 30)
    month_close(month=NOV, at=AFTER_NOV)
    mine = UserFactory(is_staff=True)
    TitleStaff.objects.create(user=mine, title=own)
    theirs = UserFactory(is_staff=True)
    TitleStaff.objects.create(user=theirs, title=other)
    return {
        "me": mine,
        "own": Statement.objects.get(title=own),
        "other": Statement.objects.get(title=other),
    }


def _client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client


def test_staff_list_only_their_titles_statements(closed) -> None:  # type: ignore[no-untyped-def]
    answer = _client(closed["me"]).get(LIST)

    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [s["title"] for s in results] == ["own-title"]
    assert results[0]["month"] == "2026-11"
    assert results[0]["amounts"] == {"gbp": 375}  # 90 of 120 seconds of a 500 pool
    assert results[0]["engaged_seconds"] == 90


def test_another_publishers_statement_is_hidden_by_id_filter_and_csv(closed) -> None:  # type: ignore[no-untyped-def]
    client = _client(closed["me"])
    other = closed["other"]

    by_id = client.get(reverse("publishers:statement-detail", kwargs={"pk": other.pk}))
    by_filter = client.get(LIST, {"title": "other-title"})
    by_csv = client.get(reverse("publishers:statement-csv", kwargs={"pk": other.pk}))

    assert by_id.status_code == 404
    assert by_filter.json()["results"] == []
    assert by_csv.status_code == 404
    assert "other-title" not in by_csv.content.decode()


def test_the_csv_lists_the_lines_and_every_ledger_row(closed) -> None:  # type: ignore[no-untyped-def]
    answer = _client(closed["me"]).get(
        reverse("publishers:statement-csv", kwargs={"pk": closed["own"].pk})
    )

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    text = answer.content.decode()
    assert "own-title,month,2026-11" in text
    assert ",reads,gbp,1,90,1,375," in text
    assert ",2026-11-05," in text
    assert "2026-11-06" not in text


def test_a_reader_is_refused_statements(closed) -> None:  # type: ignore[no-untyped-def]
    reader = _client(UserFactory())

    assert reader.get(LIST).status_code == 403
    assert reader.get(f"{LIST}{closed['own'].pk}/").status_code == 403
    assert APIClient().get(LIST).status_code == 401


def test_a_bad_filter_is_a_400(closed) -> None:  # type: ignore[no-untyped-def]
    answer = _client(closed["me"]).get(LIST, {"month": "2026-13"})

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_input"


def test_a_superuser_sees_every_title(closed) -> None:  # type: ignore[no-untyped-def]
    answer = _client(StaffFactory()).get(LIST, {"month": "2026-11"})

    assert sorted(s["title"] for s in answer.json()["results"]) == ["other-title", "own-title"]


def test_the_admin_shows_staff_their_titles_only(closed) -> None:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(closed["me"])

    listing = browser.get("/admin/publishers/statement/")
    other = browser.get(f"/admin/publishers/statement/{closed['other'].pk}/change/")
    own = browser.get(f"/admin/publishers/statement/{closed['own'].pk}/change/")

    assert listing.status_code == 200
    assert [s.pk for s in listing.context["cl"].result_list] == [closed["own"].pk]
    assert other.status_code in (302, 403, 404)
    assert own.status_code == 200
    assert "£3.75" in own.content.decode()
