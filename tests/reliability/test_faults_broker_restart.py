"""Workers that outlive what happens to them: the broker killed under them, or their own death.

- Two real prefork workers take their messages from a ``redis-server`` of the test's own.
  While they are applying events (their handlers held, so each holds unacknowledged messages
  and waits on the broker for more) the server is killed (SIGKILL: every message it held is
  gone), stays down while more webhooks arrive, and starts again empty. The workers must
  reconnect by themselves and every stored event must be applied, with no person restarting
  anything. (kombu 5.7.0's own close path made them exit here: ``config/broker.py``.)
- ``make run``'s worker, the Procfile's own line under honcho, is killed outright: it is
  started again and applies the events that arrived meanwhile.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from billing.models import Subscription, WebhookEvent
from billing.tasks import webhook_events_redrive
from stripe_sandbox.testing import RunningSandbox
from tests.celery_worker import worker_database_url
from tests.reliability.instances import ROOT, RedisServer, wait_until
from tests.reliability.test_faults_worker import (
    LEASE_SECONDS,
    STRIPE_KEY,
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
    env = {"BILLING_EVENT_LEASE_SECONDS": str(LEASE_SECONDS)}
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
            lambda w=worker: w.alive() and w.log().count("Connected to redis") >= 2,
            "the worker reconnected",
            60,
        )
    wait_until(
        lambda: (
            time.time() - max(e.received_at.timestamp() for e in WebhookEvent.objects.all())
            > LEASE_SECONDS + 0.5
        ),
        "the lease to run out",
        LEASE_SECONDS + 5,
    )
    webhook_events_redrive.delay()  # as beat sends it every minute
    wait_until(lambda: not unfinished(), "every stored event applied", 60)

    assert WebhookEvent.objects.count() == len(events)
    for worker in pair:
        assert worker.alive()
    for reader, _, subscription_id in readers:
        assert Subscription.objects.get(stripe_id=subscription_id).status == "active"
        assert granted_once(reader)


# make run: the Procfile's worker under honcho ------------------------------------------


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def supervisor_of(honcho: int) -> int:
    """The supervisor process that honcho (through a process of its own) runs."""
    found, todo = [], children(honcho)
    while todo:
        pid = todo.pop()
        if b"config/supervise.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
            found.append(pid)
        else:
            todo += children(pid)
    (supervisor,) = found
    return supervisor


def procfile_worker(tmp_path: Path) -> Path:
    """A Procfile with only the worker line of Masthead's own."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    (worker,) = [line for line in lines if line.startswith("worker:")]
    procfile = tmp_path / "Procfile"
    procfile.write_text(worker + "\n")
    return procfile


def test_make_runs_worker_killed_outright_is_started_again_and_applies_the_events(
    sandbox: RunningSandbox, broker: RedisServer, transactional_db: None, tmp_path: Path
) -> None:
    stripe = Stripe(sandbox)
    (first, first_customer, _), (second, second_customer, second_subscription) = [
        stripe.subscriber() for _ in range(2)
    ]
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker.url(),
        "STRIPE_API_BASE": sandbox.url,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "BILLING_EVENT_REDRIVE_AFTER": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "honcho.log"
    with log_path.open("wb") as log:
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "-f", str(procfile_worker(tmp_path)),
             "-d", str(ROOT)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    log_text = lambda: log_path.read_text(errors="replace")  # noqa: E731
    try:
        wait_until(lambda: " ready." in log_text(), "the worker ready", 60)
        assert all(post_event(event).status_code == 200 for event in stripe.events(first_customer))
        wait_until(lambda: not unfinished(), "the first reader's events applied", 60)
        supervisor = supervisor_of(honcho.pid)
        (worker,) = children(supervisor)
        doomed = [worker, *children(worker)]

        for pid in doomed:  # the worker and its pool die at once, as in an out-of-memory kill
            os.kill(pid, signal.SIGKILL)
        events = stripe.events(second_customer)
        assert all(post_event(event).status_code == 200 for event in events)
        wait_until(lambda: log_text().count(" ready.") == 2, "the worker started again", 60)
        # A nudge posted as the worker died may have gone to its last BRPOP, which Redis
        # answered before it saw the connection closed: the event row waits for the re-drive.
        time.sleep(1)  # BILLING_EVENT_REDRIVE_AFTER of the worker
        webhook_events_redrive.delay()  # as beat sends it every minute
        wait_until(lambda: not unfinished(), "the second reader's events applied", 60)

        assert "supervise[worker]: exited with code -9; starting it again" in log_text()
        assert honcho.poll() is None and supervisor_of(honcho.pid) == supervisor
        (restarted,) = children(supervisor)
        assert Subscription.objects.get(stripe_id=second_subscription).status == "active"
        assert granted_once(first) and granted_once(second)
    finally:
        honcho.send_signal(signal.SIGTERM)  # Ctrl-C on make run
        honcho.wait(timeout=30)
    for pid in (supervisor, restarted):
        assert not Path(f"/proc/{pid}").exists(), "the supervisor and the worker stop with honcho"
