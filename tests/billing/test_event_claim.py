"""Claiming a stored event: one worker at a time applies it, holding a lease it renews
while it works; an event whose lease ran out (its worker died) is taken over."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from billing.events import (
    webhook_event_claim,
    webhook_event_finish,
    webhook_event_lease_kept,
    webhook_event_store,
    webhook_events_pending_ids,
)
from billing.models import WebhookEvent
from billing.stripe_gateway import StripeEvent
from tests.billing.conftest import event_payload


def stored_event() -> WebhookEvent:
    payload = event_payload("evt_claim", "invoice.paid", {"id": "in_1"})
    event, _ = webhook_event_store(event=StripeEvent.from_api(payload))
    return event


@pytest.mark.django_db
def test_a_claim_leases_the_event_and_keeps_other_workers_off_until_the_lease_ends(
    settings,
) -> None:  # type: ignore[no-untyped-def]
    event = stored_event()
    lease = timedelta(seconds=settings.BILLING_EVENT_LEASE_SECONDS)

    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = webhook_event_claim(event_id=event.pk)
        second = webhook_event_claim(event_id=event.pk)  # a redelivered message, a second worker

        assert first is not None and (first.status, first.attempts) == ("processing", 1)
        assert first.lease_until == timezone.now() + lease
        assert second is None
        clock.shift(lease - timedelta(seconds=1))
        assert webhook_event_claim(event_id=event.pk) is None
        assert webhook_events_pending_ids() == []

        clock.shift(timedelta(seconds=1))  # the lease ran out: its worker died
        assert webhook_events_pending_ids() == [event.pk]
        taken_over = webhook_event_claim(event_id=event.pk)
    assert taken_over is not None and taken_over.attempts == 2
    assert WebhookEvent.objects.get(pk=event.pk).attempts == 2


@pytest.mark.django_db
def test_a_worker_whose_lease_was_taken_over_cannot_finish_the_event(settings) -> None:  # type: ignore[no-untyped-def]
    event = stored_event()
    first = webhook_event_claim(event_id=event.pk)
    assert first is not None
    later = timezone.now() + timedelta(seconds=settings.BILLING_EVENT_LEASE_SECONDS + 1)
    with time_machine.travel(later):
        second = webhook_event_claim(event_id=event.pk)
    assert second is not None

    webhook_event_finish(event=first, status="failed", error="too late")
    assert WebhookEvent.objects.get(pk=event.pk).status == "processing"
    webhook_event_finish(event=second, status="succeeded")
    stored = WebhookEvent.objects.get(pk=event.pk)
    assert (stored.status, stored.lease_until, stored.last_error) == ("succeeded", None, "")
    assert webhook_event_claim(event_id=event.pk) is None


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_the_event_is_applied(settings) -> None:  # type: ignore[no-untyped-def]
    settings.BILLING_EVENT_LEASE_SECONDS = 0.3  # renewed every 0.1 s
    event = stored_event()
    claimed = webhook_event_claim(event_id=event.pk)
    assert claimed is not None
    leases = []

    with webhook_event_lease_kept(event=claimed):
        for _ in range(6):
            time.sleep(0.15)
            leases.append(WebhookEvent.objects.get(pk=event.pk).lease_until)
            assert webhook_event_claim(event_id=event.pk) is None, "held while it is applied"

    assert len(set(leases)) >= 4 and leases == sorted(leases)
    time.sleep(0.4)  # no renewal once the block is left
    assert webhook_event_claim(event_id=event.pk) is not None


@pytest.mark.django_db
def test_a_failed_event_is_claimed_again() -> None:
    event = stored_event()
    claimed = webhook_event_claim(event_id=event.pk)
    assert claimed is not None
    webhook_event_finish(event=claimed, status="failed", error="Stripe timed out")

    assert webhook_event_claim(event_id=event.pk) is not None


@pytest.mark.django_db(transaction=True)
def test_of_workers_claiming_at_once_exactly_one_wins() -> None:
    event = stored_event()
    workers = 6
    start = Barrier(workers)

    def claim(_: int) -> bool:
        try:
            start.wait()
            return webhook_event_claim(event_id=event.pk) is not None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        won = list(pool.map(claim, range(workers)))

    assert sum(won) == 1
    assert WebhookEvent.objects.get(pk=event.pk).attempts == 1
