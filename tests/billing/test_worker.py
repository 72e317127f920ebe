"""Stripe's webhooks applied by a real Celery worker process, as in production."""

from typing import Any

import pytest

from billing.models import Customer, Subscription, WebhookEvent
from membership.access import article_access
from tests.factories import ArticleFactory, UserFactory


@pytest.fixture
def worker_env(sandbox_webhooks: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker process reaches the same sandbox, with the same key, as this test."""
    monkeypatch.setenv("STRIPE_API_BASE", sandbox_webhooks.url)
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_masthead_worker")


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_applies_the_events_the_webhook_stored(
    sandbox_webhooks: Any, worker_env: None, celery_worker_process: Any
) -> None:
    stripe = sandbox_webhooks.client()
    reader = UserFactory()
    customer = stripe.v1.customers.create(params={"email": reader.email})
    Customer.objects.create(user=reader, stripe_id=customer.id)
    product = stripe.v1.products.create(params={"name": "Masthead Complete"})
    price = stripe.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": 1299,
            "currency": "gbp",
            "recurring": {"interval": "month"},
        }
    )

    subscription = stripe.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "default_payment_method": "pm_card_visa",
        }
    )

    celery_worker_process.wait_for(
        lambda: Subscription.objects.filter(stripe_id=subscription.id, status="active").exists(),
        what="the subscription applied by the worker",
    )
    celery_worker_process.wait_for(
        lambda: not WebhookEvent.objects.filter(status__in=["received", "processing"]).exists(),
        what="every stored event applied",
    )
    assert "webhook_event_apply" in celery_worker_process.log()
    assert article_access(reader=reader, article=ArticleFactory()).reason == "subscription"
