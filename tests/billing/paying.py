"""Helpers for the paying tests: plans pushed to the sandbox, the hosted Checkout form,
and readers who already subscribe (made through the SDK, then mirrored by Masthead)."""

import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import time_machine
from django.utils import timezone

from accounts.models import User
from billing.models import Customer, PlanPrices, Subscription
from billing.plans import plan_push
from billing.services import customer_ensure, subscription_sync
from membership.models import Plan
from membership.services import trial_start
from tests.factories import PlanFactory, UserFactory
from tests.stripe_sandbox.conftest import http_request

CARD_OK = "4242424242424242"


def plan_on_sale(plan: Plan | None = None, **fields: Any) -> Plan:
    """Put the plan (a new one by default) on sale at the sandbox, as the admin does."""
    plan = plan or PlanFactory(**fields)
    plan_push(plan_id=plan.pk)
    return plan


def checkout_pay(url: str, card: str = CARD_OK) -> str:
    """Pay on the sandbox's hosted Checkout page; return where it sends the browser."""
    status, headers, body = http_request(url, "POST", form={"card_number": card})
    assert status == 303, body
    return headers["location"]


def path_of(url: str) -> str:
    """The path and query of an absolute URL, for Django's test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def reader_with_trial(started_days_ago: float) -> User:
    """A reader whose cardless trial began ``started_days_ago`` days ago (real time)."""
    reader = UserFactory()
    with time_machine.travel(timezone.now() - timedelta(days=started_days_ago), tick=False):
        trial_start(user=reader)
    reader.refresh_from_db()
    return reader


def subscribe(
    client: Any,
    reader: User,
    plan: Plan,
    *,
    card: str = "pm_card_visa",
    clock: str | None = None,
    trial_days: int | None = None,
) -> Subscription:
    """Subscribe the reader to the plan's monthly price at the sandbox, as Checkout would,
    and mirror the subscription at Masthead; ``clock`` puts the customer on a test clock."""
    created = subscription_create(
        client, reader, plan, card=card, clock=clock, trial_days=trial_days
    )
    return subscription_sync(subscription_id=created)


def subscription_create(
    client: Any,
    reader: User,
    plan: Plan,
    *,
    card: str = "pm_card_visa",
    clock: str | None = None,
    trial_days: int | None = None,
) -> str:
    """Subscribe the reader at the sandbox as ``subscribe`` does, but mirror nothing at
    Masthead yet; return the subscription's Stripe id."""
    if clock is None:
        customer_id = customer_ensure(user=reader).stripe_id
        client.v1.payment_methods.attach(card, params={"customer": customer_id})
    else:
        params = {"email": reader.email, "test_clock": clock, "payment_method": card}
        customer_id = client.v1.customers.create(params=params).id
        Customer.objects.create(user=reader, stripe_id=customer_id)
    methods = client.v1.payment_methods.list(params={"customer": customer_id, "type": "card"})
    params: dict[str, Any] = {
        "customer": customer_id,
        "items": [{"price": PlanPrices.objects.get(plan=plan).monthly_price_id}],
        "default_payment_method": methods.data[0].id,
        "metadata": {"user_id": str(reader.pk)},
    }
    if trial_days:
        params["trial_period_days"] = trial_days
    return str(client.v1.subscriptions.create(params=params).id)


def clock_create(client: Any) -> tuple[str, int]:
    """Make a test clock frozen at the current minute; return its id and time."""
    start = int(time.time()) // 60 * 60
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": start})
    return clock.id, start
