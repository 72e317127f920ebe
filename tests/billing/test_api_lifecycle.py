"""The subscription lifecycle driven through Stripe's API alone (no hosted pages), pulling
``/v1/events`` and posting each event, signed locally, to Masthead's webhook endpoint.

It runs against the offline sandbox always, and against Stripe's own test mode when
``STRIPE_SECRET_KEY=sk_test_...`` is set (mark ``stripe_live``; Stripe cannot reach
127.0.0.1, hence the pull).
"""

import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe
from django.conf import settings
from django.test import Client

from billing.models import Customer, Subscription, WebhookEvent
from membership.access import article_access
from membership.services import trial_claim
from tests.billing.conftest import WEBHOOK_URL, stripe_signature
from tests.factories import ArticleFactory, UserFactory

LIVE_KEY = os.environ.get("STRIPE_SECRET_KEY", "")


def post_new_events(client: Any, web: Client, since: int, seen: set[str]) -> None:
    """Post every event Stripe has recorded since ``since`` that was not posted yet."""
    events = client.v1.events.list(params={"created": {"gte": since}, "limit": 100})
    for event in reversed(events.data):
        if event.id in seen:
            continue
        seen.add(event.id)
        body = json.dumps(event.to_dict(for_json=True)).encode()
        signature = stripe_signature(body, secret=settings.STRIPE_WEBHOOK_SECRET)
        response = web.post(
            WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        assert response.status_code == 200, response.content


def wait_clock_ready(client: Any, clock_id: str) -> None:
    deadline = time.monotonic() + 120
    while client.v1.test_helpers.test_clocks.retrieve(clock_id).status != "ready":
        assert time.monotonic() < deadline, "the test clock never finished advancing"
        time.sleep(0.5)


def drive_lifecycle(client: Any, web: Client) -> None:
    """Subscribe with pm_card_visa, renew, switch to a failing card, go past due."""
    reader = UserFactory()
    lapsed = datetime.now(UTC) - timedelta(days=30)
    trial_claim(user=reader, kind="cardless", starts_at=lapsed, ends_at=lapsed + timedelta(14))
    article = ArticleFactory()
    since = int(time.time()) - 5
    seen: set[str] = set()
    start = int(time.time())
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": start})
    customer = client.v1.customers.create(params={"email": reader.email, "test_clock": clock.id})
    Customer.objects.create(user=reader, stripe_id=customer.id)
    product = client.v1.products.create(params={"name": "Masthead live check"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": 500,
            "currency": "gbp",
            "recurring": {"interval": "month"},
        }
    )
    card = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    subscription = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "default_payment_method": card.id,
        }
    )
    post_new_events(client, web, since, seen)
    mirror = Subscription.objects.get(stripe_id=subscription.id)
    assert mirror.status == "active"
    assert article_access(reader=reader, article=article).reason == "subscription"

    failing = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": customer.id}
    )
    client.v1.subscriptions.update(subscription.id, params={"default_payment_method": failing.id})
    period_end = subscription["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": period_end + 3600})
    wait_clock_ready(client, clock.id)
    post_new_events(client, web, since, seen)

    mirror.refresh_from_db()
    assert mirror.status == "past_due"
    assert mirror.payment_failed_at is not None
    after_grace = mirror.payment_failed_at + timedelta(days=settings.BILLING_GRACE_DAYS)
    reader.refresh_from_db()
    assert article_access(reader=reader, article=article, at=after_grace).reason == (
        "payment_failed"
    )
    assert not WebhookEvent.objects.exclude(status__in=["succeeded", "ignored"]).exists()
    client.v1.test_helpers.test_clocks.delete(clock.id)


@pytest.mark.django_db
def test_the_api_lifecycle_against_the_sandbox(sandbox_api: Any) -> None:
    drive_lifecycle(sandbox_api.client(), Client())


@pytest.mark.stripe_live
@pytest.mark.django_db
@pytest.mark.skipif(
    not LIVE_KEY.startswith("sk_test_"), reason="needs STRIPE_SECRET_KEY=sk_test_... (network)"
)
def test_the_api_lifecycle_against_stripe_test_mode(settings: Any) -> None:
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_SECRET_KEY = LIVE_KEY
    drive_lifecycle(stripe.StripeClient(LIVE_KEY), Client())
