"""A subscriber outside their plan: the ``upgrade`` paywall names the plans that cover the
title, and POST /api/v1/billing/switch/ opens Stripe's portal on the one-step confirmation
(``flow_data`` ``subscription_update_confirm``), through the sandbox as through Stripe."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from billing import stripe_gateway
from billing.models import Customer, PlanPrices
from billing.plans import portal_configuration_id
from billing.services import subscription_sync
from membership.models import Plan, Title
from membership.services import comp_grant, trial_start
from tests.billing.paying import plan_on_sale, subscribe
from tests.factories import ArticleFactory, TitleFactory, UserFactory
from tests.stripe_sandbox.conftest import http_request

pytestmark = pytest.mark.django_db

SWITCH = "/api/v1/billing/switch/"


def titled_plan(name: str, titles: list[Title], order: int) -> Plan:
    plan = plan_on_sale(name=name, all_titles=False, display_order=order)
    plan.titles.set(titles)
    return plan


@pytest.fixture
def catalogue(sandbox_api: Any) -> dict[str, Any]:
    """Two titles; a plan for each, and one for every title (on sale at the sandbox)."""
    courier, herald = TitleFactory(name="The Courier"), TitleFactory(name="The Herald")
    return {
        "courier": courier,
        "herald": herald,
        "courier_plan": titled_plan("Courier only", [courier], 0),
        "herald_plan": titled_plan("Herald only", [herald], 1),
        "everything": plan_on_sale(name="Everything", display_order=2),
        "herald_article": ArticleFactory(title=herald),
    }


def article_url(article: Any) -> str:
    return f"/api/v1/articles/{article.pk}/"


def test_a_subscriber_outside_their_plan_switches_in_one_step_and_reads_on(
    sandbox_api, catalogue, reader, reader_client
):
    subscription = subscribe(sandbox_api.client(), reader, catalogue["courier_plan"])
    article = catalogue["herald_article"]

    before = reader_client.get(article_url(article)).json()
    paywall = before["paywall"]
    actions = paywall["actions"]
    switch = actions[0]
    opened = reader_client.post(switch["url"], switch["params"], format="json")
    url = opened.json()["url"]
    _, _, confirm_page = http_request(url)
    status, headers, _ = http_request(
        url, "POST", form={"action": "confirm_update", "subscription": subscription.stripe_id}
    )
    subscription_sync(subscription_id=subscription.stripe_id)  # as its webhook would
    after = reader_client.get(article_url(article)).json()

    assert before["access"] == {"granted": False, "reason": "upgrade"}
    assert paywall["message"] == "Your plan does not cover The Herald. Switch to a plan that does"
    assert [plan["slug"] for plan in paywall["plans"]] == [
        catalogue["herald_plan"].slug,
        catalogue["everything"].slug,
    ]
    herald, everything = catalogue["herald_plan"].slug, catalogue["everything"].slug
    assert [(a["kind"], a["label"], a["method"], a["url"], a["params"]) for a in actions] == [
        ("switch_plan", "Switch to Herald only", "POST", SWITCH, {"plan": herald}),
        ("switch_plan", "Switch to Everything", "POST", SWITCH, {"plan": everything}),
    ]
    assert opened.status_code == 201
    assert url.startswith(sandbox_api.url + "/p/session/bps_")
    assert "Confirm your update" in confirm_page and "Herald only" in confirm_page
    assert status == 303 and headers["location"] == settings.SITE_URL + "/account/"
    assert after["access"] == {"granted": True, "reason": "subscription"}
    prices = PlanPrices.objects.get(plan=catalogue["herald_plan"])
    stripe_side = sandbox_api.client().v1.subscriptions.retrieve(subscription.stripe_id)
    assert stripe_side["items"].data[0].price.id == prices.monthly_price_id


def test_the_portal_session_carries_the_switch_to_the_plan_s_price_of_the_same_period(
    sandbox_api, catalogue, reader
):
    subscription = subscribe(sandbox_api.client(), reader, catalogue["courier_plan"])
    item = subscription.stripe.item_id
    everything = PlanPrices.objects.get(plan=catalogue["everything"]).monthly_price_id

    session = stripe_gateway.portal_switch_session_create(
        customer_id=Customer.objects.get(user=reader).stripe_id,
        subscription_id=subscription.stripe_id,
        item_id=item,
        price_id=everything,
        return_url="http://testserver/articles/1/",
        configuration_id=portal_configuration_id(),
    )

    assert session.data["flow"]["type"] == "subscription_update_confirm"
    assert session.data["flow"]["subscription_update_confirm"] == {
        "discounts": [],
        "items": [{"id": item, "price": everything, "quantity": 1}],
        "subscription": subscription.stripe_id,
    }
    assert session.data["flow"]["after_completion"]["type"] == "redirect"
    assert session.data["flow"]["after_completion"]["redirect"] == {
        "return_url": "http://testserver/articles/1/"
    }


def test_a_reader_with_no_subscription_is_sent_to_checkout_instead(
    sandbox_api, catalogue, reader_client
):
    response = reader_client.post(SWITCH, {"plan": catalogue["everything"].slug}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_subscription"


def test_switching_to_the_plan_one_is_on_is_refused(sandbox_api, catalogue, reader, reader_client):
    subscribe(sandbox_api.client(), reader, catalogue["courier_plan"])

    response = reader_client.post(SWITCH, {"plan": catalogue["courier_plan"].slug}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_on_plan"


def test_an_unknown_plan_is_a_404(sandbox_api, catalogue, reader, reader_client):
    subscribe(sandbox_api.client(), reader, catalogue["courier_plan"])

    response = reader_client.post(SWITCH, {"plan": "no-such-plan"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_plan"


@pytest.mark.parametrize("body", [{}, {"plan": "not a slug!"}, {"plan": ["a"]}])
def test_bad_input_is_a_400_and_opens_nothing(sandbox_api, reader_client, body):
    response = reader_client.post(SWITCH, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert not Customer.objects.exists()


def test_an_anonymous_reader_is_refused_with_a_401(api_client, db):
    response = api_client.post(SWITCH, {"plan": "everything"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.usefixtures("meter_off")  # the entitlement paywall alone
def test_a_comp_reader_outside_their_titles_is_asked_to_subscribe_not_to_switch(
    sandbox_api, catalogue
):
    comp_reader = UserFactory()
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        trial_start(user=comp_reader)
    comp_grant(
        user=comp_reader,
        titles=[catalogue["courier"]],
        ends_at=timezone.now() + timedelta(days=60),
        note="Press pass",
        actor=None,
    )
    client = APIClient()
    client.force_login(comp_reader)

    data = client.get(article_url(catalogue["herald_article"])).json()

    assert data["access"] == {"granted": False, "reason": "subscribe"}
    assert data["paywall"]["message"] == (
        "Your free trial has ended. Choose a plan to keep reading"
    )
    assert [a["kind"] for a in data["paywall"]["actions"]] == ["choose_plan"]
