"""Every reader email once per fact, whatever happens to the workers (DESIGN.md rule 12).

Real processes throughout: prefork Celery workers on a ``redis-server`` of the test's own,
the offline Stripe sandbox, and a real SMTP server (aiosmtpd) standing for the reader's
mailbox. The fact is Stripe ending a subscription; its email is "your membership has ended".

(a) A worker dies after the mail server accepted the email and before the event was marked
    finished: the event is applied again, finds the email's outbox row and sends nothing.
(b) The worker's broker connection is killed (``CLIENT KILL``) while it applies the event:
    Redis hands the message out again and a second worker receives it, but the first still
    holds the event's lease (renewed while it works), so the second takes nothing over.
"""

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from billing.tasks import webhook_events_redrive
from membership.models import OutboxMessage
from membership.tasks import outbox_redrive
from stripe_sandbox.testing import RunningSandbox
from tests.celery_worker import worker_database_url
from tests.reliability.instances import FaultWorker, RedisServer, fault_worker, wait_until
from tests.reliability.smtp_sink import SmtpSink, smtp_sink
from tests.reliability.test_faults_worker import (  # noqa: F401 (fixtures used by name)
    STRIPE_KEY,
    Stripe,
    broker,
    post_event,
    row,
    sandbox,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3  # BILLING_EVENT_LEASE_SECONDS of the workers here (production: 60)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as running:
        yield running


class Workers:
    """Fault workers on this test's database, broker, sandbox and mail server, each with its
    own hold folder; all are stopped before the test database is flushed."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env, self.tmp_path, self.started = env, tmp_path, list[FaultWorker]()

    def start(self, concurrency: int = 1) -> FaultWorker:
        number = len(self.started)
        worker = fault_worker(
            env=self.env,
            log_path=self.tmp_path / f"worker{number}.log",
            hold_dir=self.tmp_path / f"hold{number}",
            concurrency=concurrency,
        )
        self.started.append(worker)
        worker.wait_ready()
        return worker


@pytest.fixture
def workers(
    transactional_db: None,
    broker: RedisServer,  # noqa: F811
    sandbox: RunningSandbox,  # noqa: F811
    sink: SmtpSink,
    tmp_path: Path,
) -> Iterator[Workers]:
    env = {
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker.url(),
        "CELERY_WORKER_PREFETCH_MULTIPLIER": "1",
        "STRIPE_API_BASE": sandbox.url,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "BILLING_EVENT_LEASE_SECONDS": str(LEASE_SECONDS),
        "BILLING_EVENT_REDRIVE_AFTER": "1",
        "OUTBOX_REDRIVE_AFTER": "1",
        **sink.env(),
    }
    started = Workers(env, tmp_path)
    yield started
    for worker in started.started:
        worker.release()
        worker.stop()


def ended_subscription(sandbox: RunningSandbox) -> tuple[Any, dict[str, Any]]:  # noqa: F811
    """A reader whose subscription Stripe has just ended, and Stripe's event saying so."""
    stripe = Stripe(sandbox)
    reader, customer_id, subscription_id = stripe.subscriber()
    stripe.client.v1.subscriptions.cancel(subscription_id)
    (ended,) = stripe.events(customer_id, "customer.subscription.deleted")
    return reader, ended


def task_results(worker: FaultWorker, task: str) -> list[str]:
    """What each run of ``task`` by the worker returned, in order."""
    return re.findall(rf"{re.escape(task)}\[[^]]+\] succeeded in [^:]+: (\S+)", worker.log())


def the_email_once(sink: SmtpSink, reader: Any) -> None:
    (message,) = sink.received(reader.email)
    assert message["Subject"].endswith("membership has ended")
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/alternative", "text/plain", "text/html",
    ]  # fmt: skip
    (outbox,) = OutboxMessage.objects.all()
    assert (outbox.kind, outbox.fact) == ("billing.subscription_ended", "ended")
    assert outbox.status == "sent"
    assert outbox.attempts == 1
    assert message["Message-ID"].startswith(f"<outbox-{outbox.pk}.")


def test_a_worker_killed_after_the_mail_server_accepted_the_email_leaves_one_email(
    sandbox: RunningSandbox,  # noqa: F811
    workers: Workers,
    sink: SmtpSink,
) -> None:
    reader, ended = ended_subscription(sandbox)
    first = workers.start(concurrency=2)  # one pool process applies, the other sends
    first.hold_after()

    assert post_event(ended).status_code == 200
    wait_until(lambda: first.markers("applied", ended["id"]), "the event applied")
    wait_until(lambda: sink.received(reader.email), "the email accepted by the mail server")
    wait_until(lambda: OutboxMessage.objects.filter(status="sent").exists(), "the email sent")
    assert row(ended["id"]).status == "processing"  # applied, emailed, not marked finished
    first.kill_all()
    first.release()

    second = workers.start()
    wait_until(
        lambda: time.time() > row(ended["id"]).lease_until.timestamp() + 0.5,
        "the dead worker's lease to run out",
        LEASE_SECONDS + 10,
    )
    webhook_events_redrive.delay()  # as beat sends it every minute
    wait_until(lambda: row(ended["id"]).status == "succeeded", "the event applied again", 30)
    outbox_redrive.delay()  # as beat sends it every minute: nothing is left to send
    wait_until(lambda: task_results(second, "membership.tasks.outbox_redrive"), "the re-drive")

    assert task_results(second, "membership.tasks.outbox_redrive") == ["0"]
    assert row(ended["id"]).attempts == 2
    assert len(first.markers("applied", ended["id"])) == 1
    assert len(second.markers("applied", ended["id"])) == 1
    assert "was recorded before; not again" in second.log()
    time.sleep(1)  # anything still on its way to the mail server arrives by now
    the_email_once(sink, reader)


def client_ids(server: RedisServer) -> set[int]:
    client = redis.Redis(port=server.port)
    try:
        own = client.client_id()
        return {entry["id"] for entry in client.client_list()} - {own}
    finally:
        client.close()


def test_a_redelivered_message_does_not_take_over_an_event_a_live_worker_is_applying(
    sandbox: RunningSandbox,  # noqa: F811
    workers: Workers,
    sink: SmtpSink,
    broker: RedisServer,  # noqa: F811
) -> None:
    reader, ended = ended_subscription(sandbox)
    before = client_ids(broker)
    first = workers.start()
    first_connections = client_ids(broker) - before
    assert first_connections
    first.hold()

    assert post_event(ended).status_code == 200
    wait_until(lambda: first.markers("started", ended["id"]), "the first worker applying")
    second = workers.start()
    killer = redis.Redis(port=broker.port)
    for client_id in first_connections:  # Redis gives the unacked message out again
        killer.client_kill_filter(_id=client_id)
    killer.close()

    wait_until(lambda: "is held by another worker" in second.log(), "the second worker's try", 30)
    time.sleep(LEASE_SECONDS + 1)  # longer than one lease: the first worker renews it
    assert row(ended["id"]).status == "processing"
    assert row(ended["id"]).lease_until.timestamp() > time.time()
    assert row(ended["id"]).attempts == 1
    first.release()

    wait_until(lambda: row(ended["id"]).status == "succeeded", "the event applied", 30)
    # The second worker's retry comes back (to either worker) and finds the event applied.
    wait_until(
        lambda: (
            [
                result
                for worker in (first, second)
                for result in task_results(worker, "billing.tasks.webhook_event_apply")
            ]
            == ["'succeeded'", "'skipped'"]
        ),
        "the retried message to find the event applied",
        LEASE_SECONDS + 30,
    )
    wait_until(lambda: OutboxMessage.objects.filter(status="sent").exists(), "the email sent")
    time.sleep(1)  # anything still on its way to the mail server arrives by now

    assert row(ended["id"]).attempts == 1
    assert len(first.markers("applied", ended["id"])) == 1
    assert second.markers("started", ended["id"]) == []
    assert "Restoring 1 unacknowledged message(s)" in first.log()
    the_email_once(sink, reader)
