"""The broker killed and started again while Stripe's webhooks arrive and workers hold messages.

Two real prefork workers take their messages from a ``redis-server`` of the test's own. While
they are applying events (their handlers held, so each holds unacknowledged messages) the
server is killed (SIGKILL: every message it held is gone), stays down while more webhooks
arrive, and starts again empty. The workers must reconnect by themselves and every stored
event must be applied once, with no person restarting anything.
"""

import time

import pytest

from billing.models import Subscription, WebhookEvent
from billing.tasks import webhook_events_redrive
from stripe_sandbox.testing import RunningSandbox
from tests.reliability.instances import RedisServer, wait_until
from tests.reliability.test_faults_worker import (
    STALE_SECONDS,
    Stripe,
    Workers,
    broker,
    granted_once,
    post_event,
    sandbox,
    workers,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

__all__ = ["broker", "sandbox", "workers"]  # fixtures shared with test_faults_worker

DOWN_SECONDS = 20


def unfinished() -> list[str]:
    return list(
        WebhookEvent.objects.exclude(status__in=["succeeded", "ignored"]).values_list(
            "stripe_id", flat=True
        )
    )


def test_workers_holding_messages_survive_a_broker_restart_and_every_event_is_applied(
    sandbox: RunningSandbox, workers: Workers, broker: RedisServer
) -> None:
    stripe = Stripe(sandbox)
    readers = [stripe.subscriber() for _ in range(6)]
    events = [event for _, customer, _ in readers for event in stripe.events(customer)]
    env = {"BILLING_EVENT_STALE_SECONDS": str(STALE_SECONDS)}
    pair = [workers.start(**env), workers.start(**env)]
    for worker in pair:
        worker.hold()

    # Each worker runs an event (held) and waits on the broker for more: the state in which
    # a broker that goes away made kombu 5.7's close path crash the worker.
    waiting = iter(events)
    while not all(worker.markers("started") for worker in pair):
        assert post_event(next(waiting)).status_code == 200
        time.sleep(0.3)
    broker.stop()
    assert all(post_event(event).status_code == 200 for event in waiting)
    time.sleep(1)
    for worker in pair:
        worker.release()
    time.sleep(DOWN_SECONDS)
    for worker in pair:
        assert worker.alive()
    broker.start()  # empty: what it held is gone

    for worker in pair:
        wait_until(
            lambda w=worker: w.alive() and w.log().count("Connected to redis") >= 2,  # type: ignore[misc]
            "the worker reconnected",
            60,
        )
    wait_until(
        lambda: (
            time.time() - max(e.received_at.timestamp() for e in WebhookEvent.objects.all())
            > STALE_SECONDS + 0.5
        ),
        "the stale window to pass",
        STALE_SECONDS + 5,
    )
    webhook_events_redrive.delay()  # as beat sends it every minute
    wait_until(lambda: not unfinished(), "every stored event applied", 60)

    assert WebhookEvent.objects.count() == len(events)
    for worker in pair:
        assert worker.alive()
    for reader, _, subscription_id in readers:
        assert Subscription.objects.get(stripe_id=subscription_id).status == "active"
        assert granted_once(reader)
