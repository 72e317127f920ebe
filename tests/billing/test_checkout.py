"""POST /api/v1/billing/checkout/: a Checkout session with the trial the reader is due,
against the sandbox as a real process."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from billing.checkout import checkout_complete, checkout_start
from billing.models import Customer, PlanPrices
from membership.access import AccessReason, article_access
from membership.models import Trial, TrialKind
from tests.billing.paying import (
    checkout_pay,
    plan_on_sale,
    reader_with_trial,
    subscribe,
)
from tests.factories import ArticleFactory, PlanFactory, UserFactory
from tests.web.conftest import lapsed_reader

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/billing/checkout/"


def _paid(sandbox: Any, reader: Any, plan: Any, interval: str = "month") -> Any:
    """Open Checkout for the reader, pay with 4242, return the session with its subscription."""
    started = checkout_start(user=reader, plan_slug=plan.slug, interval=interval)
    checkout_pay(started.url)
    client = sandbox.client()
    return started, client.v1.checkout.sessions.retrieve(
        started.session_id, params={"expand": ["subscription"]}
    )


def test_a_reader_who_never_trialled_gets_the_plans_trial_days_on_their_card(sandbox_api):
    plan = plan_on_sale(trial_days=14)
    reader = UserFactory()
    article = ArticleFactory()

    started, session = _paid(sandbox_api, reader, plan)

    expected = timezone.now() + timedelta(days=14)
    assert abs((started.trial_end - expected).total_seconds()) < 60
    assert session.subscription.status == "trialing"
    assert session.subscription.trial_end == int(started.trial_end.timestamp())
    assert session.payment_status == "no_payment_required"
    assert session.client_reference_id == str(reader.pk)
    assert Customer.objects.get(user=reader).stripe_id == session.customer

    subscription = checkout_complete(user=reader, session_id=session.id)

    reader.refresh_from_db()
    assert subscription.status == "trialing" and subscription.plan == plan
    assert article_access(reader=reader, article=article).reason == AccessReason.SUBSCRIPTION
    trial = Trial.objects.get(user=reader)
    assert trial.kind == TrialKind.CARD and reader.trial_used_at is not None


def test_a_reader_mid_trial_keeps_the_days_left_when_two_days_remain(sandbox_api):
    plan = plan_on_sale()
    reader = reader_with_trial(started_days_ago=10)
    trial_end = Trial.objects.get(user=reader).ends_at

    started, session = _paid(sandbox_api, reader, plan)

    assert started.trial_end == trial_end
    assert session.subscription.status == "trialing"
    assert session.subscription.trial_end == int(trial_end.timestamp())


def test_a_reader_with_less_than_48_hours_of_trial_left_pays_now(sandbox_api):
    plan = plan_on_sale()
    reader = reader_with_trial(started_days_ago=12.5)

    started, session = _paid(sandbox_api, reader, plan, interval="year")

    assert started.trial_end is None
    assert session.subscription.status == "active" and session.subscription.trial_end is None
    assert session.payment_status == "paid" and session.amount_total == plan.yearly_amount


def test_a_lapsed_reader_pays_now(sandbox_api):
    plan = plan_on_sale()
    reader = lapsed_reader()

    started, session = _paid(sandbox_api, reader, plan)

    assert started.trial_end is None
    assert session.subscription.status == "active" and session.payment_status == "paid"


def test_the_api_answers_the_url_of_a_checkout_session_for_the_reader(
    sandbox_api, reader, reader_client, settings
):
    """Stripe sends the reader back to SITE_URL, not to the Host the request came with
    (``ALLOWED_HOSTS`` does not check its port)."""
    settings.SITE_URL = "https://news.example.com"
    settings.ALLOWED_HOSTS = ["news.example.com"]
    plan = plan_on_sale()

    response = reader_client.post(
        CHECKOUT,
        {"plan": plan.slug, "interval": "year"},
        "json",
        HTTP_HOST="news.example.com:1337",
    )

    assert response.status_code == 201
    url = response.json()["url"]
    assert url.startswith(sandbox_api.url + "/c/pay/cs_test_")
    session = sandbox_api.client().v1.checkout.sessions.retrieve(url.rsplit("/", 1)[1])
    assert session.status == "open" and session.client_reference_id == str(reader.pk)
    assert session.success_url == (
        "https://news.example.com/billing/welcome/?session_id={CHECKOUT_SESSION_ID}"
    )
    assert session.cancel_url == "https://news.example.com/billing/cancelled/"
    assert response["Cache-Control"].count("no-store") == 1


def test_opening_checkout_again_expires_the_older_open_session(sandbox_api, reader):
    plan = plan_on_sale()
    client = sandbox_api.client()

    first = checkout_start(user=reader, plan_slug=plan.slug, interval="month")
    second = checkout_start(user=reader, plan_slug=plan.slug, interval="month")

    assert first.session_id != second.session_id
    assert client.v1.checkout.sessions.retrieve(first.session_id).status == "expired"
    assert client.v1.checkout.sessions.retrieve(second.session_id).status == "open"
    assert Customer.objects.filter(user=reader).count() == 1


def test_a_subscriber_is_refused_a_second_checkout(sandbox_api, reader, reader_client):
    plan = plan_on_sale()
    subscribe(sandbox_api.client(), reader, plan)

    response = reader_client.post(CHECKOUT, {"plan": plan.slug, "interval": "month"}, "json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_subscribed"


def test_an_unknown_plan_is_a_404(sandbox_api, reader_client):
    response = reader_client.post(CHECKOUT, {"plan": "no-such-plan", "interval": "month"}, "json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_plan"


def test_a_plan_not_yet_pushed_to_stripe_is_a_clear_503(sandbox_api, reader_client):
    never_pushed = PlanFactory(name="Weekend")
    pending = plan_on_sale()
    PlanPrices.objects.filter(plan=pending).update(status="pending")

    for plan in (never_pushed, pending):
        response = reader_client.post(CHECKOUT, {"plan": plan.slug, "interval": "month"}, "json")

        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "plan_not_synced" and "not on sale" in error["message"]


@pytest.mark.parametrize(
    "body",
    [{}, {"plan": "everything"}, {"plan": "everything", "interval": "week"}, {"plan": "a b"}],
)
def test_bad_input_is_a_400_with_the_fields(reader_client, body):
    response = reader_client.post(CHECKOUT, body, "json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert response.json()["error"]["fields"]


def test_an_anonymous_reader_is_asked_to_sign_in(api_client, db):
    response = api_client.post(CHECKOUT, {"plan": "everything", "interval": "month"}, "json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_stripe_down_is_a_clear_json_error_not_a_500(sandbox_api, settings, reader_client):
    plan = plan_on_sale()
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    response = reader_client.post(CHECKOUT, {"plan": plan.slug, "interval": "month"}, "json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stripe_unavailable"
