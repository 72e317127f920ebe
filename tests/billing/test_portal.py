"""POST /api/v1/billing/portal/: the Customer Portal for a reader who pays."""

import pytest

from billing.models import Customer
from tests.billing.paying import plan_on_sale, subscribe
from tests.factories import CustomerFactory
from tests.stripe_sandbox.conftest import http_request

pytestmark = pytest.mark.django_db

PORTAL = "/api/v1/billing/portal/"


def test_a_subscriber_gets_masthead_s_portal_that_returns_to_the_account_page(
    sandbox_api, reader, reader_client, settings
):
    settings.SITE_URL = "https://news.example.com"
    settings.ALLOWED_HOSTS = ["news.example.com"]
    plan = plan_on_sale(name="Everything")
    plan_on_sale(name="Essentials")
    subscribe(sandbox_api.client(), reader, plan)

    response = reader_client.post(PORTAL, {}, "json", HTTP_HOST="news.example.com:1337")

    assert response.status_code == 201
    url = response.json()["url"]
    assert url.startswith(sandbox_api.url + "/p/session/bps_")
    status, _, page = http_request(url)
    assert status == 200
    assert "Everything" in page and "Renews on" in page
    assert "Switch to Essentials" in page, "Masthead's portal configuration lists the plans"
    assert "href='https://news.example.com/account/'" in page
    assert "no-store" in response["Cache-Control"]


def test_each_visit_gets_a_fresh_portal_session(sandbox_api, reader, reader_client):
    subscribe(sandbox_api.client(), reader, plan_on_sale())

    first = reader_client.post(PORTAL).json()["url"]
    second = reader_client.post(PORTAL).json()["url"]

    assert first != second


def test_a_reader_who_never_paid_has_no_billing_account(reader_client):
    response = reader_client.post(PORTAL, {}, "json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_billing_account"
    assert not Customer.objects.exists()


def test_an_anonymous_reader_is_asked_to_sign_in(api_client, db):
    response = api_client.post(PORTAL, {}, "json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_body_that_is_not_an_object_is_a_400(reader_client):
    response = reader_client.post(PORTAL, "[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_stripe_down_is_a_clear_json_error(sandbox_api, settings, reader, reader_client):
    CustomerFactory(user=reader, stripe_id="cus_unreachable")
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    response = reader_client.post(PORTAL, {}, "json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stripe_unavailable"
