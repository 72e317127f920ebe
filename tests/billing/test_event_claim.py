"""Claiming a stored event: one worker at a time applies it; one left behind is taken over."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from django.db import connection
from django.utils import timezone

from billing.events import webhook_event_claim, webhook_event_finish, webhook_event_store
from billing.models import WebhookEvent
from tests.billing.conftest import event_payload


def stored_event() -> WebhookEvent:
    event, _ = webhook_event_store(event=event_payload("evt_claim", "invoice.paid", {"id": "in_1"}))
    return event


@pytest.mark.django_db
def test_a_fresh_claim_keeps_other_workers_off_until_it_goes_stale(settings) -> None:  # type: ignore[no-untyped-def]
    event = stored_event()

    first = webhook_event_claim(event_id=event.pk)
    second = webhook_event_claim(event_id=event.pk)

    assert first is not None and (first.status, first.attempts) == ("processing", 1)
    assert second is None
    stale = timezone.now() - timedelta(seconds=settings.BILLING_EVENT_STALE_SECONDS + 1)
    WebhookEvent.objects.filter(pk=event.pk).update(started_at=stale)
    taken_over = webhook_event_claim(event_id=event.pk)
    assert taken_over is not None and taken_over.attempts == 2
    assert WebhookEvent.objects.get(pk=event.pk).attempts == 2


@pytest.mark.django_db
def test_a_redelivered_message_takes_over_at_once_but_never_a_finished_event() -> None:
    event = stored_event()
    assert webhook_event_claim(event_id=event.pk) is not None

    again = webhook_event_claim(event_id=event.pk, redelivered=True)
    assert again is not None and again.attempts == 2

    webhook_event_finish(event=again, status="succeeded")
    assert webhook_event_claim(event_id=event.pk, redelivered=True) is None
    assert WebhookEvent.objects.get(pk=event.pk).attempts == 2


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
