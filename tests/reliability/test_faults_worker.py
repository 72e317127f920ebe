"""Faults in the task path: a pool process killed mid-task, the whole worker killed
mid-task, the broker stopped while Stripe's webhooks arrive.

Each test runs its own ``redis-server`` as the broker and a real prefork worker
(``tests/reliability/instances.py``) whose event handlers can be held while they run, so the
kill lands on a task that is applying an event. Stripe is an offline sandbox process; the
events are the sandbox's own, signed here and posted to Masthead's webhook endpoint.
"""

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from billing.models import Customer, Subscription, WebhookEvent
from billing.tasks import webhook_events_redrive
from config.celery import app as celery_app
from membership.models import EntitlementEvent
from stripe_sandbox.testing import RunningSandbox, running_sandbox
from tests.billing.conftest import WEBHOOK_URL, stripe_signature
from tests.celery_worker import worker_database_url
from tests.factories import PlanFactory, UserFactory
from tests.reliability.instances import (
    FaultWorker,
    RedisServer,
    fault_worker,
    redis_server,
    wait_until,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

STRIPE_KEY = "sk_test_masthead_faults"
LEASE_SECONDS = 4  # BILLING_EVENT_LEASE_SECONDS of the workers here (production: 60)


# Stripe's side ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("faults-stripe") / "data") as running:
        yield running


class Stripe:
    """Readers with paid subscriptions at the sandbox, and the events the sandbox made."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.client = sandbox.client(STRIPE_KEY)
        self.plan = PlanFactory(monthly_amount=1299)
        product = self.client.v1.products.create(params={"name": self.plan.name})
        self.price = self.client.v1.prices.create(
            params={
                "product": product.id,
                "unit_amount": 1299,
                "currency": "gbp",
                "recurring": {"interval": "month"},
                "metadata": {"plan_id": str(self.plan.pk), "interval": "month"},
            }
        )

    def subscriber(self) -> tuple[Any, str, str]:
        """A reader, their Stripe customer and an active subscription; nothing applied yet."""
        reader = UserFactory()
        customer = self.client.v1.customers.create(params={"email": reader.email})
        Customer.objects.create(user=reader, stripe_id=customer.id)
        subscription = self.client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": self.price.id}],
                "default_payment_method": "pm_card_visa",
                "metadata": {"user_id": str(reader.pk)},
            }
        )
        return reader, str(customer.id), str(subscription.id)

    def events(self, customer_id: str, event_type: str = "") -> list[dict[str, Any]]:
        """The sandbox's events about ``customer_id`` (oldest first), as Stripe sends them."""
        found, cursor = [], None
        while True:
            params = {"limit": 100, **({"starting_after": cursor} if cursor else {})}
            page = json.loads(self.client.raw_request("get", "/v1/events", **params).body)
            for event in page["data"]:
                obj = event["data"]["object"]
                if customer_id in (obj.get("id"), obj.get("customer")) and (
                    not event_type or event["type"] == event_type
                ):
                    found.append(event)
            if not page["has_more"]:
                return list(reversed(found))
            cursor = page["data"][-1]["id"]


def post_event(event: dict[str, Any]) -> Any:
    """POST one event to Masthead's webhook endpoint, signed as Stripe signs it."""
    body = json.dumps(event).encode()
    signature = stripe_signature(body, secret=settings.STRIPE_WEBHOOK_SECRET)
    return Client().post(
        WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def granted_once(reader: Any) -> bool:
    kinds = EntitlementEvent.objects.filter(entitlement__user=reader).values_list("kind", flat=True)
    return list(kinds) == ["granted"]


# The broker and the workers ------------------------------------------------------------


def broker_switch(url: str) -> None:
    """Point this process's producers (the webhook view, the test) at another broker.

    Celery reads ``CELERY_BROKER_URL`` from the environment before its own configuration, so
    the caller sets that too."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """A redis-server of this test's own, as the broker of the app and its workers."""
    previous = celery_app.conf.broker_url
    with redis_server(tmp_path / "redis") as server:
        monkeypatch.setenv("CELERY_BROKER_URL", server.url())
        broker_switch(server.url())
        assert celery_app.connection_for_write().as_uri().endswith(f":{server.port}/0")
        try:
            yield server
        finally:
            monkeypatch.undo()
            broker_switch(previous)


class Workers:
    """Starts fault workers on this test's database, broker and sandbox."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env, self.tmp_path, self.started = env, tmp_path, list[FaultWorker]()

    def start(self, **env: str) -> FaultWorker:
        worker = fault_worker(
            env={**self.env, **env},
            log_path=self.tmp_path / f"worker{len(self.started)}.log",
            hold_dir=self.tmp_path / "hold",
        )
        self.started.append(worker)
        worker.wait_ready()
        return worker


@pytest.fixture
def workers(
    transactional_db: None, broker: RedisServer, sandbox: RunningSandbox, tmp_path: Path
) -> Iterator[Workers]:
    """Workers for the test; all are stopped before the test database is flushed."""
    env = {
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker.url(),
        "STRIPE_API_BASE": sandbox.url,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "BILLING_EVENT_REDRIVE_AFTER": "1",
    }
    started = Workers(env, tmp_path)
    yield started
    for worker in started.started:
        worker.release()
        worker.stop()


def redrives(worker: FaultWorker) -> list[int]:
    """What each re-drive run by the worker returned (how many events it queued again)."""
    found = re.findall(r"webhook_events_redrive\[[^]]+\] succeeded in [^:]+: (\d+)", worker.log())
    return [int(n) for n in found]


def row(stripe_id: str) -> WebhookEvent:
    return WebhookEvent.objects.get(stripe_id=stripe_id)


# The tests -----------------------------------------------------------------------------


def test_a_pool_process_killed_mid_task_runs_the_task_again_and_applies_the_event_once(
    sandbox: RunningSandbox, workers: Workers
) -> None:
    stripe = Stripe(sandbox)
    reader, customer_id, subscription_id = stripe.subscriber()
    (event,) = stripe.events(customer_id, "customer.subscription.created")
    # No re-drive runs here: the redelivered message itself comes back once the lease ends.
    worker = workers.start(BILLING_EVENT_LEASE_SECONDS=str(LEASE_SECONDS))
    worker.hold()

    assert post_event(event).status_code == 200
    wait_until(lambda: worker.markers("started", event["id"]), "the handler running")
    [(_, pid)] = worker.markers("started", event["id"])
    assert row(event["id"]).status == "processing"
    worker.kill_pool_process(pid)

    # acks_late + reject_on_worker_lost: the message goes back to the queue; a fresh pool
    # process takes it, waits out the killed one's lease (no longer renewed), and applies the
    # event the killed one never finished.
    wait_until(
        lambda: len(worker.markers("started", event["id"])) == 2,
        "the task run again",
        LEASE_SECONDS + 30,
    )
    worker.release()
    wait_until(lambda: row(event["id"]).status == "succeeded", "the event applied", 30)

    (_, first), (_, second) = worker.markers("started", event["id"])
    assert first == pid and second != pid and second in worker.pool_pids()
    assert worker.markers("applied", event["id"]) == [(event["id"], second)]
    assert row(event["id"]).attempts == 2
    assert Subscription.objects.get(stripe_id=subscription_id).status == "active"
    assert granted_once(reader)
    assert "WorkerLostError" in worker.log()


def test_a_worker_killed_whole_mid_task_leaves_the_event_for_the_redrive_and_a_new_worker(
    sandbox: RunningSandbox, workers: Workers
) -> None:
    stripe = Stripe(sandbox)
    reader, customer_id, subscription_id = stripe.subscriber()
    (event,) = stripe.events(customer_id, "customer.subscription.created")
    first = workers.start(BILLING_EVENT_LEASE_SECONDS=str(LEASE_SECONDS))
    first.hold()

    assert post_event(event).status_code == 200
    wait_until(lambda: first.markers("started", event["id"]), "the handler running")
    first.kill_all()
    first.release()
    assert row(event["id"]).status == "processing"

    second = workers.start(BILLING_EVENT_LEASE_SECONDS=str(LEASE_SECONDS))
    # While its lease lasts the re-drive leaves a processing event alone (it may be running).
    webhook_events_redrive.delay()
    wait_until(lambda: redrives(second), "the first re-drive")
    assert redrives(second) == [0]
    assert row(event["id"]).status == "processing"

    wait_until(
        lambda: time.time() - row(event["id"]).lease_until.timestamp() > 0.5,
        "the dead worker's lease to run out",
        LEASE_SECONDS + 5,
    )
    webhook_events_redrive.delay()  # as beat sends it every minute
    wait_until(lambda: row(event["id"]).status == "succeeded", "the event applied", 30)

    assert redrives(second) == [0, 1]
    [(_, pid)] = second.markers("applied", event["id"])
    assert pid in second.pool_pids()
    assert row(event["id"]).attempts == 2
    assert Subscription.objects.get(stripe_id=subscription_id).status == "active"
    assert granted_once(reader)


def test_events_posted_while_the_broker_is_down_are_stored_and_applied_once_it_is_back(
    sandbox: RunningSandbox, workers: Workers, broker: RedisServer
) -> None:
    stripe = Stripe(sandbox)
    readers = [stripe.subscriber() for _ in range(4)]
    events = [event for _, customer, _ in readers for event in stripe.events(customer)]
    worker = workers.start()
    broker.stop()

    answers = []
    for event in events:
        began = time.monotonic()
        answers.append((post_event(event).status_code, time.monotonic() - began))

    assert [status for status, _ in answers] == [200] * len(events)
    assert max(seconds for _, seconds in answers) < 5, "a webhook never waits long for the broker"
    assert WebhookEvent.objects.count() == len(events)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"received"}

    broker.start()  # empty: every nudge sent while it was down is gone
    wait_until(lambda: worker.log().count("Connected to redis") == 2, "the worker reconnected", 60)
    time.sleep(1)  # BILLING_EVENT_REDRIVE_AFTER of the worker
    webhook_events_redrive.delay()  # as beat sends it every minute
    wait_until(
        lambda: not WebhookEvent.objects.exclude(status__in=["succeeded", "ignored"]).exists(),
        "every stored event applied",
        60,
    )

    applied = [event_id for event_id, _ in worker.markers("applied")]
    handled = WebhookEvent.objects.filter(status="succeeded").values_list("stripe_id", flat=True)
    assert sorted(applied) == sorted(handled), "each handled event applied exactly once"
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}
    for reader, _, subscription_id in readers:
        assert Subscription.objects.get(stripe_id=subscription_id).status == "active"
        assert granted_once(reader)
    assert redrives(worker) == [len(events)]
