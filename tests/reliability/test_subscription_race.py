"""A new subscription applied by several callers at once, on PostgreSQL: the Checkout
success page and the webhook workers (``checkout.session.completed``,
``customer.subscription.created``) reach Masthead at the same moment. The reader gets one
entitlement, and when Stripe cancels the subscription no access is left past that moment.

The readers pay on the offline Stripe's hosted Checkout page; the sandbox's own events are
signed and posted to Masthead's webhook endpoint. Two real prefork workers (one process
each, ``tests/reliability/instances.py``) hold their handlers until both have taken an
event, then all callers are let go together.
"""

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway
from billing.checkout import checkout_start
from billing.events import webhook_event_process, webhook_event_store
from billing.models import Subscription, WebhookEvent
from billing.services import checkout_session_apply
from billing.stripe_gateway import StripeEvent
from membership.access import article_access
from membership.models import Entitlement, EntitlementEvent, Plan
from stripe_sandbox.testing import RunningSandbox, running_sandbox
from tests.billing.paying import checkout_pay, plan_on_sale
from tests.celery_worker import worker_database_url
from tests.factories import ArticleFactory, UserFactory
from tests.reliability.instances import RedisServer, redis_server, wait_until
from tests.reliability.test_faults_worker import Workers, broker_switch, post_event

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

STRIPE_KEY = "sk_test_masthead_race"
ROUNDS = 3
RACED = ("checkout.session.completed", "customer.subscription.created")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("race-stripe") / "data") as running:
        yield running


@pytest.fixture
def stripe(sandbox: RunningSandbox, settings: Any) -> Any:
    """This process's gateway talks to the sandbox; returns an SDK client for Stripe's side."""
    settings.STRIPE_API_BASE = sandbox.url
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return sandbox.client(STRIPE_KEY)


@pytest.fixture
def race_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """A redis-server of this test's own, as the broker of the app and its workers."""
    from config.celery import app as celery_app

    previous = celery_app.conf.broker_url
    with redis_server(tmp_path / "redis") as server:
        monkeypatch.setenv("CELERY_BROKER_URL", server.url())
        broker_switch(server.url())
        try:
            yield server
        finally:
            monkeypatch.undo()
            broker_switch(previous)


@pytest.fixture
def two_workers(
    transactional_db: None,
    race_broker: RedisServer,
    sandbox: RunningSandbox,
    tmp_path: Path,
) -> Iterator[Workers]:
    """Two worker processes taking one message at a time each, so two events run at once."""
    env = {
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": race_broker.url(),
        "CELERY_WORKER_PREFETCH_MULTIPLIER": "1",
        "STRIPE_API_BASE": sandbox.url,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
    }
    started = Workers(env, tmp_path)
    yield started
    for worker in started.started:
        worker.release()
        worker.stop()


def events_of(client: Any, customer_id: str) -> dict[str, dict[str, Any]]:
    """The sandbox's events about the customer, by type (the newest of each type)."""
    found: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        params = {"limit": 100, **({"starting_after": cursor} if cursor else {})}
        page = json.loads(client.raw_request("get", "/v1/events", **params).body)
        for event in page["data"]:
            obj = event["data"]["object"]
            if customer_id in (obj.get("id"), obj.get("customer")):
                found.setdefault(event["type"], event)
        if not page["has_more"]:
            return found
        cursor = page["data"][-1]["id"]


def paid_at_checkout(client: Any, plan: Plan) -> tuple[User, Any]:
    """A reader who paid on the hosted Checkout page; nothing applied at Masthead yet."""
    reader = UserFactory()
    started = checkout_start(user=reader, plan_slug=plan.slug, interval="month")
    checkout_pay(started.url)
    return reader, client.v1.checkout.sessions.retrieve(started.session_id)


def applied(stripe_ids: list[str]) -> bool:
    rows = WebhookEvent.objects.filter(stripe_id__in=stripe_ids)
    return rows.filter(status="succeeded").count() == len(stripe_ids)


def holding(workers: Workers, events: list[dict[str, Any]]) -> bool:
    """Whether each event's handler is running (held), each in another worker process."""
    started = [m for e in events for m in workers.started[0].markers("started", e["id"])]
    return len(started) == len(events) and len({pid for _, pid in started}) == len(events)


def windows_of(subscription_id: str) -> list[Entitlement]:
    return list(Entitlement.objects.filter(source="subscription", reference=subscription_id))


def test_two_workers_and_the_success_page_at_once_grant_one_entitlement(
    stripe: Any, two_workers: Workers
) -> None:
    plan = plan_on_sale(trial_days=0)
    first, second = two_workers.start(), two_workers.start()
    paid = []
    for _ in range(ROUNDS):
        reader, session = paid_at_checkout(stripe, plan)
        events = events_of(stripe, session.customer)
        raced = [events[event_type] for event_type in RACED]
        first.hold()
        for event in raced:
            assert post_event(event).status_code == 200
        wait_until(lambda: holding(two_workers, raced), "each worker holding one event")
        page = Client()
        page.force_login(reader)
        first.release()  # both workers apply their event while the success page applies too
        answer = page.get("/billing/welcome/", {"session_id": session.id})
        assert answer.status_code == 200
        wait_until(lambda: applied([e["id"] for e in raced]), "both events applied", 60)
        paid.append((reader, session.subscription))

    for reader, subscription_id in paid:
        assert len(windows_of(subscription_id)) == 1, "one entitlement for one subscription"
        granted = EntitlementEvent.objects.filter(entitlement__user=reader, kind="granted")
        assert granted.count() == 1
        stored = Subscription.objects.get(stripe_id=subscription_id)
        assert stored.entitlement == windows_of(subscription_id)[0]

    article = ArticleFactory()
    deleted = []
    for reader, subscription_id in paid:
        assert article_access(reader=reader, article=article).reason == "subscription"
        stripe.v1.subscriptions.cancel(subscription_id)
        customer_id = Subscription.objects.get(stripe_id=subscription_id).customer_stripe_id
        event = events_of(stripe, customer_id)["customer.subscription.deleted"]
        assert post_event(event).status_code == 200
        deleted.append(event["id"])
    wait_until(lambda: applied(deleted), "the cancellations applied", 60)
    cancelled = timezone.now()

    for reader, _ in paid:
        assert not Entitlement.objects.filter(user=reader, ends_at__gt=cancelled).exists()
        assert article_access(reader=reader, article=article).granted is False
    pids = {pid for _, pid in first.markers("applied")}
    assert len(pids) == 2, "both worker processes applied events"
    assert second.alive()


def test_the_success_page_and_a_worker_fetch_a_new_subscription_in_one_turn(
    stripe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads on PostgreSQL: the success page applies the Checkout session while a
    worker applies the subscription's first event. Their fetches from Stripe never overlap
    (one per-subscription turn), and the reader gets one entitlement."""
    assert connection.vendor == "postgresql", "the reliability suite runs on PostgreSQL"
    reader, session = paid_at_checkout(stripe, plan_on_sale(trial_days=0))
    fetch = stripe_gateway.subscription_retrieve
    in_flight, most, lock = [0], [0], threading.Lock()

    def counted(*, subscription_id: str) -> dict[str, Any]:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            time.sleep(0.3)  # a slow Stripe: a caller out of turn would overlap
            return fetch(subscription_id=subscription_id)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(stripe_gateway, "subscription_retrieve", counted)
    checkout = stripe_gateway.checkout_session_retrieve(session_id=session.id)
    created = events_of(stripe, session.customer)["customer.subscription.created"]
    event, _ = webhook_event_store(event=StripeEvent.from_api(created))
    start = threading.Barrier(2)

    def run(call: Any) -> Any:
        try:
            start.wait()
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        page, worker = pool.map(
            run,
            [
                lambda: checkout_session_apply(session=checkout),
                lambda: webhook_event_process(event_id=event.pk),
            ],
        )

    assert worker == "succeeded" and page.user == reader
    assert most[0] == 1, "the success page and the worker took turns"
    assert len(windows_of(session.subscription)) == 1
