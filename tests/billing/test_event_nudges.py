"""One broker message per burst of webhook events: the door nudges a worker only when no
nudge is pending, and the worker drains every stored event; a lost nudge loses nothing."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import event_drain, events
from billing.models import WebhookEvent
from billing.tasks import webhook_event_apply, webhook_events_drain, webhook_events_redrive
from tests.billing.conftest import event_payload
from tests.factories import WebhookEventFactory

pytestmark = pytest.mark.django_db

EVENT_TYPE = "customer.subscription.updated"


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the events handled instead of fetching from Stripe."""
    seen: list[str] = []
    monkeypatch.setitem(events.EVENT_HANDLERS, EVENT_TYPE, lambda row: seen.append(row.stripe_id))
    return seen


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The nudges the door queues, held back (not run) so the test decides their fate."""
    sent: list[int] = []
    monkeypatch.setattr(webhook_event_apply, "delay", lambda event_id: sent.append(event_id))
    return sent


def burst(webhook: Any, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        event = event_payload(f"evt_{number}", EVENT_TYPE, {"id": f"sub_{number % 7}"})
        assert webhook.post(event).status_code == 200


def test_a_burst_of_events_queues_one_nudge_and_its_worker_applies_every_row(
    webhook: Any, applied: list[str], queued: list[int]
) -> None:
    burst(webhook, 25)

    assert len(queued) == 1, "one broker message for the whole burst"
    assert WebhookEvent.objects.filter(status="received").count() == 25

    assert webhook_event_apply.apply(args=(queued[0],)).get() == "succeeded"

    # every row; the backlog woke a second drain (run inline here)
    assert sorted(applied) == sorted(f"evt_{number}" for number in range(25))
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {("succeeded", 1)}


def test_events_stored_after_the_worker_started_on_the_nudge_get_a_nudge_of_their_own(
    webhook: Any, applied: list[str], queued: list[int]
) -> None:
    burst(webhook, 3)
    webhook_event_apply.apply(args=(queued[0],))  # the worker lowers the flag as it starts
    burst(webhook, 3, start=3)

    assert len(queued) == 2
    webhook_event_apply.apply(args=(queued[1],))
    assert len(applied) == 6
    assert not WebhookEvent.objects.exclude(status="succeeded").exists()


def test_a_lost_nudge_holds_the_next_ones_back_only_briefly_and_the_redrive_applies_the_rows(
    webhook: Any, applied: list[str], queued: list[int], settings: Any
) -> None:
    burst(webhook, 5)
    queued.clear()  # the broker lost the one nudge
    burst(webhook, 5, start=5)
    assert queued == [], "the flag is still up: the lost nudge is taken for pending"

    settings.BILLING_EVENT_REDRIVE_AFTER = 0
    assert webhook_events_redrive.apply().get() == 10  # as beat sends it every minute
    outcomes = [webhook_event_apply.apply(args=(event_id,)).get() for event_id in queued]

    assert outcomes == ["succeeded"] + ["skipped"] * 9, "the first drained the others"
    assert sorted(applied) == sorted(f"evt_{number}" for number in range(10))
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {("succeeded", 1)}


def test_the_pending_flag_expires_so_a_lost_nudge_is_followed_by_a_new_one(
    webhook: Any, applied: list[str], queued: list[int], settings: Any
) -> None:
    burst(webhook, 2)
    assert len(queued) == 1
    cache.clear()  # the flag runs out after BILLING_EVENT_NUDGE_SECONDS
    burst(webhook, 1, start=2)
    assert len(queued) == 2


def test_a_nudge_the_broker_refused_is_not_taken_for_pending(
    webhook: Any, applied: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tries: list[int] = []

    def refused(event_id: int) -> None:
        tries.append(event_id)
        raise ConnectionError("broker down")

    monkeypatch.setattr(webhook_event_apply, "delay", refused)
    burst(webhook, 3)

    assert len(tries) == 3, "each event tries while the broker is down"
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"received"}


def test_while_the_cache_is_unreachable_every_event_gets_its_own_nudge(
    webhook: Any, applied: list[str], queued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: True)  # fails open
    burst(webhook, 4)
    assert len(queued) == 4


def test_a_drain_claims_rows_in_batches_and_leaves_held_and_finished_rows_alone(
    applied: list[str], settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.BILLING_EVENT_DRAIN_BATCH = 4
    waiting = [WebhookEventFactory(stripe_id=f"evt_w{n}", type=EVENT_TYPE) for n in range(10)]
    WebhookEventFactory(stripe_id="evt_done", type=EVENT_TYPE, status="succeeded")
    held = WebhookEventFactory(stripe_id="evt_held", type=EVENT_TYPE)
    assert events.webhook_event_claim(event_id=held.pk) is not None

    # 3 batch claims and an empty one, one finish per batch
    with django_assert_max_num_queries(4 + 3):
        drained = event_drain.webhook_events_drain()

    assert (drained.applied, drained.failed, drained.more_waiting) == (10, [], False)
    assert applied == [row.stripe_id for row in waiting]
    held.refresh_from_db()
    assert held.status == "processing"


def test_a_drain_records_a_batch_in_one_statement_each_row_with_its_own_outcome(
    applied: list[str], settings: Any
) -> None:
    settings.BILLING_EVENT_DRAIN_BATCH = 10
    handled = [WebhookEventFactory(stripe_id=f"evt_h{n}", type=EVENT_TYPE) for n in range(3)]
    unknown = WebhookEventFactory(stripe_id="evt_unknown", type="customer.tax_id.created")

    with CaptureQueriesContext(connection) as captured:
        drained = event_drain.webhook_events_drain()

    finishes = [q["sql"] for q in captured.captured_queries if "finished_at" in q["sql"]]
    assert len(finishes) == 1
    assert drained.outcomes == {
        **{row.pk: "succeeded" for row in handled}, unknown.pk: "ignored"
    }  # fmt: skip
    stored = dict(WebhookEvent.objects.values_list("stripe_id", "status"))
    assert stored == {**{row.stripe_id: "succeeded" for row in handled}, "evt_unknown": "ignored"}
    assert not WebhookEvent.objects.filter(finished_at=None).exists()
    assert not WebhookEvent.objects.exclude(lease_until=None).exists()


def test_a_row_taken_over_while_its_batch_was_applied_is_left_to_its_new_worker(
    settings: Any,
) -> None:
    rows = [WebhookEventFactory(stripe_id=f"evt_o{n}", type=EVENT_TYPE) for n in range(2)]
    batch = event_drain.webhook_events_claim_batch(limit=2)
    later = timezone.now() + timedelta(seconds=settings.BILLING_EVENT_LEASE_SECONDS + 1)
    with time_machine.travel(later):  # this worker stalled past its lease
        assert events.webhook_event_claim(event_id=rows[1].pk) is not None

    events.webhook_events_finish(finished=[(event, "succeeded") for event in batch])

    first, second = (WebhookEvent.objects.get(pk=row.pk) for row in rows)
    assert (first.status, first.lease_until) == ("succeeded", None)
    assert (second.status, second.attempts) == ("processing", 2)


def test_a_failing_row_in_a_drain_is_recorded_failed_and_retried_the_others_applied(
    applied: list[str], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    calls: list[str] = []

    def flaky(row: WebhookEvent) -> None:
        calls.append(row.stripe_id)
        if calls.count(row.stripe_id) == 1 and row.stripe_id == "evt_f1":
            raise RuntimeError("Stripe timed out")

    monkeypatch.setitem(events.EVENT_HANDLERS, EVENT_TYPE, flaky)
    rows = [WebhookEventFactory(stripe_id=f"evt_f{n}", type=EVENT_TYPE) for n in range(3)]

    webhook_events_drain.apply()  # the second drain it wakes and the retry run inline here

    assert sorted(calls) == ["evt_f0", "evt_f1", "evt_f1", "evt_f2"]
    for row in rows:
        row.refresh_from_db()
    assert [(row.status, row.attempts) for row in rows] == [
        ("succeeded", 1), ("succeeded", 2), ("succeeded", 1),
    ]  # fmt: skip


def test_a_drain_past_its_time_hands_on_to_a_fresh_nudge(
    applied: list[str], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.BILLING_EVENT_DRAIN_BATCH = 2
    settings.BILLING_EVENT_DRAIN_SECONDS = -1  # past its time after the first batch
    for n in range(5):
        WebhookEventFactory(stripe_id=f"evt_t{n}", type=EVENT_TYPE)
    handed_on: list[bool] = []
    monkeypatch.setattr(webhook_events_drain, "delay", lambda: handed_on.append(True))

    # the first claim takes one event (others wait: a second drain is woken), then past time
    assert webhook_events_drain.apply().get() == 1

    assert handed_on == [True]
    assert WebhookEvent.objects.filter(status="received").count() == 4


@pytest.mark.celery_worker(concurrency=2)
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_a_burst_of_forty_events_from_a_few_broker_messages(
    webhook: Any, celery_worker_process: Any
) -> None:
    for number in range(40):  # applied without Stripe: the customer is forgotten
        event = event_payload(f"evt_b{number}", "customer.deleted", {"id": f"cus_{number}"})
        assert webhook.post(event).status_code == 200

    celery_worker_process.wait_for(
        lambda: WebhookEvent.objects.filter(status="succeeded").count() == 40,
        what="every stored event applied",
    )
    received = re.findall(
        r"Task billing\.tasks\.webhook_event_apply\[[^]]+\] received", celery_worker_process.log()
    )
    assert 1 <= len(received) <= 8, f"{len(received)} broker messages for 40 events"
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}


def test_a_batch_claim_leases_at_most_its_limit_oldest_first_and_never_a_row_twice() -> None:
    rows = [WebhookEventFactory(stripe_id=f"evt_c{n}", type=EVENT_TYPE) for n in range(5)]

    first = event_drain.webhook_events_claim_batch(limit=2)
    second = event_drain.webhook_events_claim_batch(limit=2)
    third = event_drain.webhook_events_claim_batch(limit=2)

    assert [row.pk for row in first + second + third] == [row.pk for row in rows]
    assert {(row.status, row.attempts) for row in first + second + third} == {("processing", 1)}
    assert all(row.lease_until is not None for row in first)
    assert event_drain.webhook_events_claim_batch(limit=2) == []
