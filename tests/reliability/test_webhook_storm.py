"""Webhook storm: 2k Stripe events for hundreds of readers, a fifth of them delivered twice,
all shuffled and posted by 4 concurrent senders to Masthead's webhook (gunicorn, 2 workers),
applied by 2 Celery worker processes. Afterwards Masthead holds what one ordered delivery
gives: the same subscriptions and entitlements as the same events applied once, in order,
after a reset; Stripe's own state; every event succeeded or ignored, each applied once.

``STORM_EVENTS`` (default 2000) sets the size; ``bench/webhook_storm.py`` runs it with 10k and
``STORM_REPORT`` (a path) receives the figures as JSON.
"""

import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing.models import WebhookEvent
from stripe_sandbox.testing import RunningSandbox, running_sandbox
from tests.celery_worker import worker_database_url
from tests.reliability.storm import (
    deliveries_plan,
    email_counts,
    gunicorn_running,
    mirror_reset,
    mirror_state,
    ordered_replay,
    storm_send,
    storm_settled,
    stripe_differences,
    world_build,
)

pytestmark = pytest.mark.django_db(transaction=True)

STORM_EVENTS = int(os.environ.get("STORM_EVENTS", "2000"))
EVENTS_PER_READER = 14.8  # what one story makes at the sandbox (1995 events for 134 readers)
SENDERS = 4
WORKERS = 2
DUPLICATE_SHARE = 0.2
SECRET = "whsec_masthead_storm"
API_KEY = "sk_test_masthead_storm"
EXPECTED_STATUS = {
    "renewed": "active",
    "cancelled": "canceled",
    "ending": "canceled",
    "switched": "active",
    "failing": "past_due",
    "updated": "active",
}


@pytest.fixture
def storm_sandbox(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningSandbox]:
    """A sandbox with no webhook endpoint (the test's senders deliver), reached by this
    process, the web server and the workers alike."""
    with running_sandbox(tmp_path / "stripe", args=["--quiet"]) as sandbox:
        settings.STRIPE_API_BASE = sandbox.url
        settings.STRIPE_SECRET_KEY = API_KEY
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
        monkeypatch.setenv("STRIPE_SECRET_KEY", API_KEY)
        yield sandbox


@pytest.mark.celery_worker(concurrency=WORKERS)
def test_a_duplicated_shuffled_concurrent_storm_ends_as_one_ordered_delivery(
    storm_sandbox: RunningSandbox, celery_worker_process: Any, tmp_path: Path
) -> None:
    readers = math.ceil(STORM_EVENTS / EVENTS_PER_READER)
    world = world_build(
        storm_sandbox.client(API_KEY), api_url=storm_sandbox.url, api_key=API_KEY, readers=readers
    )
    events = world.events
    assert len(events) >= STORM_EVENTS * 0.95, f"only {len(events)} events for {readers} readers"
    planned = deliveries_plan(events, duplicate_share=DUPLICATE_SHARE, seed=20261125)

    server_env = {"STRIPE_WEBHOOK_SECRET": SECRET, "DB_CONN_MAX_AGE": "60"}
    with gunicorn_running(
        database_url=worker_database_url(), env=server_env, log_path=tmp_path / "gunicorn.log"
    ) as server_url:
        started = time.monotonic()
        delivery = storm_send(server_url, planned, senders=SENDERS, secret=SECRET)
        celery_worker_process.wait_for(
            lambda: storm_settled(len(events)),
            what="every stored event applied",
            timeout=max(180, len(events) / 5),
        )
        applied_seconds = time.monotonic() - started

    # Every post was accepted; each duplicate was recognised as one and stored once.
    assert delivery.answers == Counter({200: len(planned)})
    assert delivery.duplicate_answers == delivery.duplicates == len(planned) - len(events)
    stored = WebhookEvent.objects.all()
    assert stored.count() == len(events)
    statuses = Counter(stored.values_list("status", flat=True))
    assert set(statuses) <= {"succeeded", "ignored"}, statuses
    assert Counter(stored.values_list("attempts", flat=True)) == Counter({1: len(events)})

    # Masthead now mirrors Stripe, and each reader's story ended where it should.
    assert stripe_differences(world) == []
    storm = mirror_state()
    stories = {(story, storm["subscriptions"][sub]["status"]) for _, sub, story in world.readers}
    assert stories == set(EXPECTED_STATUS.items())
    storm_emails = email_counts(celery_worker_process.emails())
    assert storm_emails and max(storm_emails.values()) == 1, "one email per fact, once"

    # The same events once, in order, into a reset mirror give the same state and emails
    # (recorded again in the emptied outbox, and sent by the worker).
    mirror_reset()
    replay_seconds = ordered_replay(events)
    assert mirror_state() == storm
    celery_worker_process.wait_for(
        lambda: storm_settled(len(events)), what="every replayed email sent", timeout=120
    )
    assert email_counts(celery_worker_process.emails()) - storm_emails == storm_emails

    figures = {
        "readers": readers,
        "events": len(events),
        "posts": len(planned),
        "duplicates": delivery.duplicates,
        "senders": SENDERS,
        "workers": WORKERS,
        "handled": statuses.get("succeeded", 0),
        "ignored": statuses.get("ignored", 0),
        "build_s": round(world.build_seconds, 1),
        "send_s": round(delivery.seconds, 2),
        "accepted_per_s": round(len(planned) / delivery.seconds, 1),
        "applied_s": round(applied_seconds, 2),
        "applied_per_s": round(len(events) / applied_seconds, 1),
        "ordered_replay_s": round(replay_seconds, 2),
        "emails": sum(storm_emails.values()),
        "sender_retries": delivery.retries,
    }
    print("webhook storm:", json.dumps(figures))
    if os.environ.get("STORM_REPORT"):
        Path(os.environ["STORM_REPORT"]).write_text(json.dumps(figures, indent=2))
