"""PostgreSQL restarted while Stripe's webhooks stream in: nothing lost, nothing doubled.

The app runs as in production, on a throwaway PostgreSQL cluster of this test's own:
gunicorn (2 sync workers, persistent connections: ``DB_CONN_MAX_AGE``) takes the webhooks,
a prefork Celery worker applies them, a throwaway redis-server is the broker. A sender posts
the sandbox's events, signed, and retries each until it gets a 2xx, as Stripe does; the
cluster is restarted (fast shutdown: every connection dropped) halfway through the stream.
"""

import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from billing.tasks import webhook_events_redrive
from config.celery import app as celery_app
from stripe_sandbox.testing import RunningSandbox, running_sandbox
from tests.reliability.instances import (
    ROOT,
    FaultWorker,
    fault_worker,
    free_port,
    port_open,
    postgres_cluster,
    redis_server,
    wait_until,
)

# No pytest-django database here: the app's database is the throwaway cluster.
pytestmark = pytest.mark.celery_worker  # tasks go to the throwaway broker, never inline

SECRET = "whsec_masthead_faults"
STRIPE_KEY = "sk_test_masthead_faults"
READERS = 8
WEBHOOK_PATH = "/billing/stripe/webhook/"


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


SEED = """
import json
from django.contrib.auth import get_user_model
from membership.models import Plan
plan = Plan.objects.create(slug="complete", name="Complete", monthly_amount=1299,
                           yearly_amount=12990, currency="gbp", all_titles=True)
users = [get_user_model().objects.create_user(email=f"reader{n}@example.com", password=None)
         for n in range(%d)]
print(json.dumps({"plan": plan.pk, "users": [u.pk for u in users]}))
"""


def sign(payload: bytes) -> str:
    timestamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


@dataclass
class Sender:
    """Posts events one after another; retries each on a non-2xx or a connection error."""

    port: int
    attempts: list[tuple[str, float, float, str]] = field(default_factory=list)
    answered: dict[str, int] = field(default_factory=dict)

    def post(self, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request(
                    "POST",
                    WEBHOOK_PATH,
                    body=body,
                    headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
                )
                status = conn.getresponse().status
                conn.close()
                outcome = str(status)
            except OSError as exc:
                status, outcome = 0, type(exc).__name__
            self.attempts.append((event["id"], began, time.monotonic(), outcome))
            if 200 <= status < 300:
                self.answered[event["id"]] = status
                return
            time.sleep(0.2)  # Stripe backs off for longer; the test has no hour to spare
        raise AssertionError(f"{event['id']} never answered 2xx")

    def failures(self) -> list[tuple[str, float, float, str]]:
        return [a for a in self.attempts if not a[3].startswith("2")]


def events_of(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    client, found, cursor = sandbox.client(STRIPE_KEY), [], None
    while True:
        params = {"limit": 100, **({"starting_after": cursor} if cursor else {})}
        page = json.loads(client.raw_request("get", "/v1/events", **params).body)
        found += page["data"]
        if not page["has_more"]:
            return list(reversed(found))
        cursor = page["data"][-1]["id"]


@contextmanager
def web_and_worker(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, FaultWorker]]:
    """gunicorn (2 sync workers) and a prefork Celery worker, stopped before the services."""
    port = free_port()
    with (tmp_path / "web.log").open("wb") as log:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = fault_worker(env=env, log_path=tmp_path / "worker.log", hold_dir=tmp_path / "hold")
    try:
        wait_until(lambda: port_open(port), "gunicorn listening")
        worker.wait_ready()
        yield port, worker
    finally:
        worker.stop()
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


def test_a_postgres_restart_mid_stream_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with (
        postgres_cluster() as pg,
        redis_server(tmp_path / "redis") as redis,
        running_sandbox(tmp_path / "stripe") as sandbox,
    ):
        database = pg.create_database("masthead")
        env = {
            **os.environ,
            "DEBUG": "true",
            "MASTHEAD_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": database,
            "DB_CONN_MAX_AGE": "600",
            "CELERY_BROKER_URL": redis.url(0),
            "CACHE_URL": redis.url(1),
            "STRIPE_API_BASE": sandbox.url,
            "STRIPE_SECRET_KEY": STRIPE_KEY,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "BILLING_EVENT_LEASE_SECONDS": "3",
            "BILLING_EVENT_REDRIVE_AFTER": "1",
            "LOG_LEVEL": "WARNING",
        }
        manage(env, "migrate", "--noinput")
        seeded = json.loads(manage(env, "shell", "-c", SEED % READERS).strip().splitlines()[-1])

        stripe = sandbox.client(STRIPE_KEY)
        product = stripe.v1.products.create(params={"name": "Complete"})
        price = stripe.v1.prices.create(
            params={
                "product": product.id,
                "unit_amount": 1299,
                "currency": "gbp",
                "recurring": {"interval": "month"},
                "metadata": {"plan_id": str(seeded["plan"]), "interval": "month"},
            }
        )
        subscriptions = []
        for user_id in seeded["users"]:
            customer = stripe.v1.customers.create(params={"email": f"user{user_id}@example.com"})
            subscriptions.append(
                stripe.v1.subscriptions.create(
                    params={
                        "customer": customer.id,
                        "items": [{"price": price.id}],
                        "default_payment_method": "pm_card_visa",
                        "metadata": {"user_id": str(user_id)},
                    }
                ).id
            )
        events = events_of(sandbox)

        with web_and_worker(env, tmp_path) as (port, worker):
            sender = Sender(port)
            restarted: list[float] = []

            def send() -> None:
                for event in events:
                    sender.post(event)
                    time.sleep(0.02)

            def restart_halfway() -> None:
                wait_until(lambda: len(sender.answered) >= len(events) // 2, "half the stream", 60)
                pg.restart(down_for=1.0)
                restarted.append(time.monotonic())

            threads = [threading.Thread(target=send), threading.Thread(target=restart_halfway)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert restarted, "the cluster was restarted"
            assert set(sender.answered) == {e["id"] for e in events}, "every event got a 2xx"

            def pending() -> int:
                with psycopg.connect(database) as conn:
                    (count,) = conn.execute(
                        "SELECT count(*) FROM billing_webhookevent "
                        "WHERE status NOT IN ('succeeded', 'ignored')"
                    ).fetchone()  # type: ignore[misc]
                    return int(count)

            def redriven() -> bool:  # as beat would, every couple of seconds instead of a minute
                if pending() == 0:
                    return True
                with celery_app.connection_for_write(redis.url(0)) as connection:
                    webhook_events_redrive.apply_async(connection=connection)
                time.sleep(2)
                return False

            wait_until(redriven, "every stored event applied", 90)

            with psycopg.connect(database) as conn:
                stored = conn.execute("SELECT stripe_id, type, status FROM billing_webhookevent")
                rows = stored.fetchall()
                subs = conn.execute("SELECT stripe_id, status FROM billing_subscription").fetchall()
                grants = conn.execute(
                    "SELECT e.user_id, count(*) FROM membership_entitlementevent ev "
                    "JOIN membership_entitlement e ON e.id = ev.entitlement_id "
                    "WHERE ev.kind = 'granted' GROUP BY e.user_id"
                ).fetchall()

            failures = sender.failures()
            runs = [event for event, _ in worker.markers("applied")]
            applied = {r[0] for r in rows if r[2] == "succeeded"}
            print(
                f"events: {len(events)}, attempts: {len(sender.attempts)}, failed attempts: "
                f"{len(failures)} ({sorted({f[3] for f in failures})}), restarts: {pg.restarts}, "
                f"handled: {len(applied)}, handler runs: {len(runs)}, worker database errors: "
                f"{worker.log().count('OperationalError')}"
            )
            assert failures, "some deliveries met the database down and were retried"
            after = [f for f in failures if f[1] > restarted[0]]
            assert after == [], "once PostgreSQL is back, no request fails on a dead connection"
            assert sorted(r[0] for r in rows) == sorted(e["id"] for e in events), "stored once each"
            assert {r[2] for r in rows} <= {"succeeded", "ignored"}
            assert sorted(subs) == sorted((s, "active") for s in subscriptions)
            assert sorted(grants) == sorted((u, 1) for u in seeded["users"]), "granted once each"
            assert set(runs) == applied, "every handled event ran its handler"
