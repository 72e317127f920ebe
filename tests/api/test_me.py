"""GET /api/v1/me/ and POST /api/v1/me/trial/."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from membership.models import EntitlementSource, Trial
from membership.services import entitlement_grant, entitlement_revoke, trial_start
from tests.api.conftest import session_token_for
from tests.factories import TitleFactory, UserFactory

ME = "/api/v1/me/"
TRIAL = "/api/v1/me/trial/"


def test_me_shows_the_reader_without_a_trial(reader, reader_client):
    response = reader_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": reader.pk,
        "email": reader.email,
        "trial": None,
        "trial_eligibility": "available",
        "entitlements": [],
        "subscription": None,
        "group": None,
        "credits": {"balance": 0, "unlocked": []},
        "app_account_token": str(reader.app_account.token),
    }


def test_me_shows_the_trial_and_live_entitlements_only(reader, reader_client):
    trial = trial_start(user=reader)
    courier = TitleFactory(slug="courier")
    comp = entitlement_grant(
        user=reader,
        source=EntitlementSource.COMP,
        ends_at=timezone.now() + timedelta(days=60),
        titles=[courier],
    )
    ended = entitlement_grant(
        user=reader, source=EntitlementSource.GIFT, ends_at=timezone.now() + timedelta(days=1)
    )
    entitlement_revoke(entitlement=ended)

    with time_machine.travel(trial.started_at + timedelta(days=3, hours=1), tick=False):
        data = reader_client.get(ME).json()

    assert data["trial"] == {
        "status": "active",
        "started_at": trial.started_at.isoformat().replace("+00:00", "Z"),
        "ends_at": trial.ends_at.isoformat().replace("+00:00", "Z"),
        "days_left": 11,
    }
    assert [(e["source"], e["all_titles"], e["titles"]) for e in data["entitlements"]] == [
        ("trial", True, []),
        ("comp", False, ["courier"]),
    ]
    assert data["entitlements"][1]["ends_at"] == comp.ends_at.isoformat().replace("+00:00", "Z")


def test_me_shows_an_ended_trial_as_ended_before_any_task_runs(reader):
    trial = trial_start(user=reader)

    with time_machine.travel(trial.ends_at, tick=False):
        client = APIClient()
        client.force_login(reader)
        data = client.get(ME).json()

    assert Trial.objects.get(pk=trial.pk).status == "active"
    assert data["trial"]["status"] == "ended"
    assert data["trial"]["days_left"] == 0
    assert data["entitlements"] == []


def test_me_works_with_the_session_token(reader, token_client):
    response = token_client.get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == reader.email


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_SESSION_TOKEN": "not-a-real-session-token"}])
def test_me_refuses_an_anonymous_reader_with_a_json_401(db, headers):
    response = APIClient(**headers).get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_trial_start_answers_201_with_the_trial(reader, reader_client):
    response = reader_client.post(TRIAL)

    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "active"
    assert data["days_left"] == 14
    assert (
        Trial.objects.get(user=reader).ends_at.isoformat().replace("+00:00", "Z")
        == (data["ends_at"])
    )
    assert reader_client.get(ME).json()["entitlements"][0]["source"] == "trial"


def test_trial_start_accepts_an_empty_json_object(reader_client):
    assert reader_client.post(TRIAL, {}, format="json").status_code == 201


def test_trial_start_twice_answers_409_trial_already_used(reader_client):
    reader_client.post(TRIAL)

    response = reader_client.post(TRIAL)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "trial_already_used"


def test_trial_start_refuses_an_address_that_already_had_its_trial(db):
    first = UserFactory(email="foo@gmail.com")
    trial_start(user=first)
    first.delete()
    again = APIClient()
    again.force_login(UserFactory(email="Foo+x@Gmail.com"))

    response = again.post(TRIAL)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "trial_already_used"


def test_trial_start_refuses_an_anonymous_reader_with_a_json_401(api_client, db):
    response = api_client.post(TRIAL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not Trial.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [('{"oops": ', "malformed_request"), ("[1, 2]", "invalid_input"), ('"yes"', "invalid_input")],
)
def test_trial_start_refuses_a_bad_body_with_a_400_and_starts_nothing(reader_client, body, code):
    response = reader_client.post(TRIAL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Trial.objects.exists()


def test_trial_start_refuses_a_form_body_with_a_json_415(reader_client):
    response = reader_client.post(TRIAL, {"a": "b"}, format="multipart")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_trial_start_refuses_get_with_a_json_405(reader_client):
    response = reader_client.get(TRIAL)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_trial_start_is_throttled_per_reader(reader_client):
    answers = [reader_client.post(TRIAL).status_code for _ in range(10)]

    response = reader_client.post(TRIAL)

    assert answers == [201] + [409] * 9
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    other = APIClient()
    other.force_login(UserFactory())
    assert other.post(TRIAL).status_code == 201


def test_trial_start_with_a_cookie_and_no_csrf_token_is_refused_with_a_json_403(reader):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(reader)

    response = client.post(TRIAL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]
    assert not Trial.objects.exists()


def test_trial_start_with_a_cookie_and_its_csrf_token_succeeds(reader):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(reader)
    secret = "s3cr3t" * 5 + "ab"  # a CSRF secret: 32 letters and digits
    client.cookies["csrftoken"] = secret

    response = client.post(TRIAL, HTTP_X_CSRFTOKEN=secret)

    assert response.status_code == 201


def test_trial_start_with_the_session_token_needs_no_csrf_token(reader):
    client = APIClient(enforce_csrf_checks=True, HTTP_X_SESSION_TOKEN=session_token_for(reader))

    assert client.post(TRIAL).status_code == 201


def _routes(patterns, prefix=""):  # type: ignore[no-untyped-def]
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route, pattern


def test_one_route_owns_me_and_it_answers_with_the_subscription():
    from django.urls import get_resolver, resolve

    from billing.api import MeApi

    routes = _routes(get_resolver().url_patterns)
    me_routes = [view for route, view in routes if route == "api/v1/me/"]

    assert len(me_routes) == 1
    assert resolve(ME).func.view_class is MeApi  # type: ignore[attr-defined]
