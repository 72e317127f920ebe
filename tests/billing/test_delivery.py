"""Webhooks as Stripe really sends them: late, twice, out of order, or while the broker is
down. Masthead ends in Stripe's state every time, and applies no event twice."""

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from billing.models import Customer, PlanPrices, Subscription, WebhookEvent
from billing.tasks import webhook_events_redrive
from config.celery import app as celery_app
from membership.access import article_access
from membership.models import Entitlement, Plan
from tests.factories import ArticleFactory, PlanFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def all_delivered(sandbox: Any) -> bool:
    """Every delivery the sandbox planned has been answered with 2xx, and applied."""
    deliveries = sandbox.deliveries()
    done = deliveries and all(d["status"] == "succeeded" for d in deliveries)
    idle = not WebhookEvent.objects.filter(status__in=["received", "processing"]).exists()
    return bool(done and idle)


class Catalogue:
    """Two plans at Stripe: Essentials (two titles) and Complete (every title)."""

    def __init__(self, stripe: Any) -> None:
        self.stripe = stripe
        self.news, self.business, self.science = TitleFactory(), TitleFactory(), TitleFactory()
        essentials = PlanFactory(all_titles=False, monthly_amount=699)
        essentials.titles.set([self.news, self.business])
        self.essentials = self._priced(essentials)
        self.complete = self._priced(PlanFactory(monthly_amount=1299))

    def _priced(self, plan: Plan) -> str:
        product = self.stripe.v1.products.create(params={"name": plan.name})
        price = self.stripe.v1.prices.create(
            params={
                "product": product.id,
                "unit_amount": plan.monthly_amount,
                "currency": "gbp",
                "recurring": {"interval": "month"},
                "metadata": {"plan_id": str(plan.pk), "interval": "month"},
            }
        )
        PlanPrices.objects.create(
            plan=plan, product_id=product.id, monthly_price_id=price.id, status="synced"
        )
        return str(price.id)

    def subscriber(self, price_id: str, card: str = "pm_card_visa") -> tuple[Any, str]:
        """A reader with a Stripe customer and a paid subscription on ``price_id``."""
        reader = UserFactory()
        customer = self.stripe.v1.customers.create(params={"email": reader.email})
        Customer.objects.create(user=reader, stripe_id=customer.id)
        subscription = self.stripe.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price_id}],
                "default_payment_method": card,
                "metadata": {"user_id": str(reader.pk)},
            }
        )
        return reader, str(subscription.id)


def test_a_plan_switch_moves_the_reader_to_the_new_plans_titles(sandbox_webhooks: Any) -> None:
    catalogue = Catalogue(sandbox_webhooks.client())
    reader, sub_id = catalogue.subscriber(catalogue.essentials)
    science = ArticleFactory(title=catalogue.science)
    news = ArticleFactory(title=catalogue.news)
    wait_for(lambda: all_delivered(sandbox_webhooks), "the subscription")
    assert article_access(reader=reader, article=news).reason == "subscription"
    # Essentials does not cover science: the paywall offers the plans that do.
    assert article_access(reader=reader, article=science).reason == "upgrade"

    stripe_sub = catalogue.stripe.v1.subscriptions.retrieve(sub_id)
    catalogue.stripe.v1.subscriptions.update(
        sub_id,
        params={
            "items": [{"id": stripe_sub["items"].data[0].id, "price": catalogue.complete}],
            "proration_behavior": "none",
        },
    )
    wait_for(
        lambda: Subscription.objects.get(stripe_id=sub_id).price_id == catalogue.complete,
        "the switch",
    )
    wait_for(lambda: all_delivered(sandbox_webhooks), "every event")

    assert article_access(reader=reader, article=science).reason == "subscription"
    entitlement = Entitlement.objects.get(user=reader)
    assert entitlement.all_titles is True
    assert list(entitlement.events.values_list("kind", flat=True)) == ["granted", "changed"]


@pytest.mark.sandbox_args("--chaos", "dup=0.2,shuffle=1")
def test_duplicated_and_shuffled_delivery_ends_in_stripes_state(sandbox_webhooks: Any) -> None:
    catalogue = Catalogue(sandbox_webhooks.client())
    stripe = catalogue.stripe
    article = ArticleFactory(title=catalogue.science)
    readers = [catalogue.subscriber(catalogue.essentials) for _ in range(3)]
    readers += [catalogue.subscriber(catalogue.complete) for _ in range(3)]
    (_, ending), (_, switching), (_, gone), *_ = readers
    stripe.v1.subscriptions.update(ending, params={"cancel_at_period_end": True})
    item = stripe.v1.subscriptions.retrieve(switching)["items"].data[0].id
    stripe.v1.subscriptions.update(
        switching,
        params={"items": [{"id": item, "price": catalogue.complete}], "proration_behavior": "none"},
    )
    stripe.v1.subscriptions.cancel(gone)

    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery", timeout=60)

    deliveries = sandbox_webhooks.deliveries()
    assert any(d["duplicate"] for d in deliveries), "chaos sent some events twice"
    assert WebhookEvent.objects.count() == len({d["event"] for d in deliveries})
    assert set(WebhookEvent.objects.values_list("status", flat=True)) <= {"succeeded", "ignored"}
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}
    for reader, sub_id in readers:
        truth = stripe.v1.subscriptions.retrieve(sub_id)
        mirror = Subscription.objects.get(stripe_id=sub_id)
        assert mirror.status == truth.status, sub_id
        assert mirror.price_id == truth["items"].data[0].price.id, sub_id
        assert mirror.cancel_at_period_end == truth.cancel_at_period_end, sub_id
        period_end = datetime.fromtimestamp(truth["items"].data[0].current_period_end, tz=UTC)
        assert mirror.current_period_end == period_end, sub_id
        expected = "start_trial" if sub_id == gone else None
        reason = article_access(reader=reader, article=article).reason
        if expected:
            assert reason == expected
        elif mirror.price_id == catalogue.complete:
            assert reason == "subscription", sub_id
        else:
            assert reason == "upgrade", "Essentials does not cover science"


def broker_switch(url: str) -> None:
    """Point the app's producers at another broker (forgetting the pools of the last one).

    Celery prefers the ``CELERY_BROKER_URL`` variable to its configuration, so both move.
    """
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_an_event_that_arrives_while_the_broker_is_down_is_applied_after_it_returns(
    sandbox_webhooks: Any,
) -> None:
    catalogue = Catalogue(sandbox_webhooks.client())
    eager = celery_app.conf.task_always_eager
    broker = celery_app.conf.broker_url
    broker_variable = os.environ.get("CELERY_BROKER_URL")
    celery_app.conf.task_always_eager = False
    broker_switch("redis://127.0.0.1:9/0")  # nothing listens on port 9
    try:
        reader, sub_id = catalogue.subscriber(catalogue.complete)
        wait_for(
            lambda: WebhookEvent.objects.filter(type="customer.subscription.created").exists(),
            "the event stored although the broker is down",
        )
        wait_for(
            lambda: all(d["status"] == "succeeded" for d in sandbox_webhooks.deliveries()),
            "Stripe told 200",
        )
        assert not Subscription.objects.filter(stripe_id=sub_id).exists()
        assert WebhookEvent.objects.filter(status="received").exists()
    finally:
        broker_switch(broker)
        if broker_variable is None:
            del os.environ["CELERY_BROKER_URL"]
        celery_app.conf.task_always_eager = eager

    connection.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.BILLING_EVENT_REDRIVE_AFTER", 0)
        webhook_events_redrive.delay()

    assert Subscription.objects.get(stripe_id=sub_id).status == "active"
    assert not WebhookEvent.objects.exclude(status__in=["succeeded", "ignored"]).exists()
    assert article_access(reader=reader, article=ArticleFactory()).reason == "subscription"
