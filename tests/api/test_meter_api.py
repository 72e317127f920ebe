"""The meter through the API: device tokens, metered reads, the spent meter's paywall."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from membership.devices import DEVICE_HEADER, device_token_read
from membership.meter_models import MeterRead
from tests.api.conftest import MARKER, session_token_for
from tests.factories import ArticleFactory, EntitlementFactory, TitleFactory

DEVICES = "/api/v1/devices/"
pytestmark = pytest.mark.django_db


def detail(article) -> str:  # type: ignore[no-untyped-def]
    return reverse("membership:article-detail", kwargs={"pk": article.pk})


@pytest.fixture
def three(db):  # type: ignore[no-untyped-def]
    paper = TitleFactory(slug="the-courier", name="The Courier")
    return [ArticleFactory(title=paper) for _ in range(3)]


def app_client() -> APIClient:
    """The app on a new device: it asks for a device token and sends it from then on."""
    client = APIClient()
    response = client.post(DEVICES, {}, format="json")
    assert response.status_code == 201
    client.credentials(HTTP_X_DEVICE_TOKEN=response.json()["device_token"])
    return client


# POST /devices/ ---------------------------------------------------------------------


def test_a_new_device_gets_a_signed_token_of_its_own(api_client) -> None:
    first = api_client.post(DEVICES, {}, format="json")
    second = api_client.post(DEVICES)

    assert first.status_code == second.status_code == 201
    assert set(first.json()) == {"device_token"}
    ids = {device_token_read(token=r.json()["device_token"]) for r in (first, second)}
    assert None not in ids and len(ids) == 2


@pytest.mark.parametrize("body", [[1, 2], "a string", 7])
def test_a_body_that_is_not_an_object_is_refused(api_client, body) -> None:
    response = api_client.post(DEVICES, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_malformed_json_is_refused(api_client) -> None:
    response = api_client.post(DEVICES, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_client_minting_devices_without_end_is_refused(api_client, monkeypatch) -> None:
    from membership.devices_api import DeviceCreateThrottle

    monkeypatch.setattr(DeviceCreateThrottle, "rate", "2/hour", raising=False)

    codes = [api_client.post(DEVICES).status_code for _ in range(3)]

    assert codes == [201, 201, 429]


def test_only_post_creates_a_device(api_client) -> None:
    assert api_client.get(DEVICES).status_code == 405


# Reading on the meter ---------------------------------------------------------------


def test_a_device_reads_two_articles_on_the_meter_then_gets_the_registration_wall(
    three,
) -> None:
    client = app_client()
    with time_machine.travel(datetime(2027, 1, 10, 12, 0, tzinfo=UTC), tick=False):
        one, two, spent = (client.get(detail(article)).json() for article in three)

    assert one["access"] == {"granted": True, "reason": "metered"}
    assert MARKER in one["body"] and "paywall" not in one
    assert one["meter"] == {
        "used": 1,
        "limit": 2,
        "remaining": 1,
        "resets_at": "2027-02-01T00:00:00Z",
    }
    assert two["meter"]["remaining"] == 0 and MARKER in two["body"]
    assert spent["access"] == {"granted": False, "reason": "sign_up"}
    assert "body" not in spent and MARKER not in str(spent)
    assert spent["meter"]["remaining"] == 0 and spent["meter"]["used"] == 2
    assert spent["paywall"]["message"] == "Create a free account to read 5 articles a month"


def test_a_signed_in_reader_reads_five_then_is_offered_the_trial(three) -> None:
    from tests.factories import UserFactory

    reader = UserFactory()
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))
    articles = three + [ArticleFactory(title=three[0].title) for _ in range(3)]

    answers = [client.get(detail(article)).json() for article in articles]

    assert [a["access"]["reason"] for a in answers] == ["metered"] * 5 + ["start_trial"]
    assert answers[-1]["meter"] == {**answers[4]["meter"], "remaining": 0}
    assert answers[-1]["meter"]["limit"] == 5 and "body" not in answers[-1]


def test_an_api_request_without_a_device_token_is_not_metered(api_client, three) -> None:
    answer = api_client.get(detail(three[0])).json()

    assert answer["access"] == {"granted": False, "reason": "sign_up"}
    assert "meter" not in answer and "body" not in answer
    assert not MeterRead.objects.exists()


@pytest.mark.parametrize(
    "token", ["garbage", "0" * 32, "0" * 32 + ":forged-signature", "a" * 5000, ""]
)
def test_a_tampered_token_is_a_new_device_with_nothing_used(three, token) -> None:
    client = app_client()
    for article in three[:2]:
        client.get(detail(article))  # the real device is spent

    tampered = APIClient(HTTP_X_DEVICE_TOKEN=token).get(detail(three[2]))

    assert tampered.status_code == 200
    assert tampered.json()["access"] == {"granted": True, "reason": "metered"}
    assert tampered.json()["meter"]["used"] == 1
    fresh = device_token_read(token=tampered[DEVICE_HEADER])
    assert fresh is not None
    assert client.get(detail(three[2])).json()["access"]["granted"] is False


def test_list_views_count_nothing(three) -> None:
    client = app_client()

    listing = client.get("/api/v1/articles/")

    assert listing.status_code == 200 and MARKER not in listing.content.decode()
    assert not MeterRead.objects.exists()


def test_a_reader_with_access_gets_no_meter(three, reader, token_client) -> None:
    EntitlementFactory(user=reader)

    answer = token_client.get(detail(three[0])).json()

    assert answer["access"] == {"granted": True, "reason": "comp"}
    assert "meter" not in answer
    assert not MeterRead.objects.exists()


def test_metered_answers_are_private_and_vary_by_device(three) -> None:
    response = app_client().get(detail(three[0]))

    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    vary = {part.strip() for part in response["Vary"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert {"Cookie", "X-Session-Token", "X-Device-Token"} <= vary


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "facebookexternalhit/1.1",
    ],
)
def test_crawlers_are_not_metered_and_get_the_teaser_only(three, agent) -> None:
    client = app_client()
    client.credentials(HTTP_X_DEVICE_TOKEN=client._credentials["HTTP_X_DEVICE_TOKEN"])

    answer = client.get(detail(three[0]), HTTP_USER_AGENT=agent).json()

    assert answer["access"]["granted"] is False and "body" not in answer
    assert "meter" not in answer
    assert not MeterRead.objects.exists()


CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def statements(client: APIClient, path: str) -> tuple[list[str], dict]:  # type: ignore[type-arg]
    """Return the SQL a request ran, transaction control left out, and its JSON."""
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(path).json()
    sql = [q["sql"] for q in captured.captured_queries]
    return [q for q in sql if not q.upper().startswith(CONTROL)], answer


def test_a_metered_read_costs_a_device_one_statement_on_postgresql(three) -> None:
    client = app_client()
    client.get(detail(three[1]))  # the meter's limits are read once and kept

    sql, answer = statements(client, detail(three[0]))

    assert answer["access"]["reason"] == "metered"
    assert answer["meter"]["used"] == 2
    if connection.vendor == "postgresql":  # the article's statement counts the read
        assert len(sql) == 1, sql
        assert "membership_meter_count(" in sql[0]
    else:  # the article, then the read's one insert and the count
        assert len(sql) == 3, sql
        assert sum(q.count("INSERT INTO membership_meterread") for q in sql) == 1
    assert MeterRead.objects.filter(article=three[0]).count() == 1


def test_a_re_read_writes_nothing(three) -> None:
    client = app_client()
    client.get(detail(three[0]))

    sql, answer = statements(client, detail(three[0]))

    assert answer["meter"]["used"] == 1
    assert len(sql) == (1 if connection.vendor == "postgresql" else 3), sql
    assert MeterRead.objects.count() == 1


def test_a_metered_read_by_a_signed_in_reader_costs_at_most_six_statements(
    three, reader, token_client
) -> None:
    token_client.get(detail(three[1]))

    sql, answer = statements(token_client, detail(three[0]))

    assert answer["access"]["reason"] == "metered"
    # The session, the reader, the article, their entitlements, the read's insert, the count.
    assert len(sql) <= 6, sql


def test_a_head_request_counts_nothing(three) -> None:
    client = app_client()

    assert client.head(detail(three[0])).status_code == 200

    assert not MeterRead.objects.exists()
