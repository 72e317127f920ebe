"""The webhook door: signed events are stored once and applied once; others leave no trace."""

import json
import time

import pytest

from billing import events
from billing.events import webhook_events_pending_ids, webhook_events_replay
from billing.models import WebhookEvent
from billing.tasks import webhook_event_apply
from tests.billing.conftest import WEBHOOK_URL, event_payload, stripe_signature
from tests.factories import WebhookEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the subscription events handled instead of fetching from Stripe."""
    seen: list[str] = []
    monkeypatch.setitem(
        events.EVENT_HANDLERS,
        "customer.subscription.updated",
        lambda event: seen.append(event.stripe_id),
    )
    return seen


def test_a_signed_event_is_stored_and_applied_once(webhook, applied) -> None:  # type: ignore[no-untyped-def]
    event = event_payload("evt_1", "customer.subscription.updated", {"id": "sub_1"})

    first = webhook.post(event)
    again = webhook.post(event)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_id, stored.type, stored.status) == (
        "evt_1",
        "customer.subscription.updated",
        "succeeded",
    )
    assert stored.attempts == 1
    assert applied == ["evt_1"]


def test_an_event_type_masthead_does_not_handle_is_stored_and_ignored(webhook) -> None:  # type: ignore[no-untyped-def]
    response = webhook.post(event_payload("evt_2", "charge.dispute.created", {"id": "dp_1"}))

    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == "ignored"


@pytest.mark.parametrize(
    "signature",
    [None, "", "t=1,v1=deadbeef", "garbage", "v1=abc"],
    ids=["missing", "empty", "forged", "malformed", "no-timestamp"],
)
def test_unsigned_or_forged_requests_are_refused_and_nothing_is_stored(webhook, signature) -> None:  # type: ignore[no-untyped-def]
    response = webhook.post(event_payload("evt_3", "invoice.paid", {}), signature=signature)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()


def test_a_stale_signature_beyond_the_tolerance_is_refused(webhook) -> None:  # type: ignore[no-untyped-def]
    response = webhook.post(event_payload("evt_4", "invoice.paid", {}), at=int(time.time()) - 301)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_replay_within_the_tolerance_is_accepted_and_applied_once(webhook, applied) -> None:  # type: ignore[no-untyped-def]
    event = event_payload("evt_5", "customer.subscription.updated", {"id": "sub_5"})
    at = int(time.time()) - 200
    assert webhook.post(event, at=at).status_code == 200
    assert webhook.post(event, at=at).status_code == 200
    assert applied == ["evt_5"]


def test_a_signed_body_that_is_not_an_event_is_refused(client, settings) -> None:  # type: ignore[no-untyped-def]
    for body in (b"not json", json.dumps({"no": "id"}).encode(), b"[]"):
        signature = stripe_signature(body, secret=settings.STRIPE_WEBHOOK_SECRET)
        response = client.post(
            WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        assert response.status_code == 400, body
    assert not WebhookEvent.objects.exists()


def test_a_signed_event_holding_a_nul_anywhere_is_refused(client, settings) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NULs in JSON: written as the escape, or in a body in UTF-16."""
    deep = event_payload("evt_nul", "invoice.paid", {"id": "in_1", "lines": [{"k\x00": "v"}]})
    nul_value = event_payload("evt_nul", "invoice.paid", {"id": "in_1", "memo": "a\x00b"})
    plain = event_payload("evt_nul", "invoice.paid", {"id": "in_1"})
    for body in (
        json.dumps(deep).encode(),
        json.dumps(nul_value).encode(),
        json.dumps({**plain, "type": "invoice.paid\x00"}).encode("utf-16-le"),
    ):
        assert b"\\u0000" in body or b"\x00" in body
        signature = stripe_signature(body, secret=settings.STRIPE_WEBHOOK_SECRET)
        response = client.post(
            WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "malformed_event"
    assert not WebhookEvent.objects.exists()


def test_only_post_is_allowed(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get(WEBHOOK_URL).status_code == 405


def test_a_failing_handler_leaves_the_event_failed_then_replay_applies_it(
    webhook,
    monkeypatch,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    calls: list[str] = []

    def flaky(event):  # type: ignore[no-untyped-def]
        calls.append(event.stripe_id)
        if len(calls) == 1:
            raise RuntimeError("Stripe timed out")

    monkeypatch.setitem(events.EVENT_HANDLERS, "invoice.paid", flaky)
    monkeypatch.setattr(webhook_event_apply, "max_retries", 0)
    settings.CELERY_TASK_EAGER_PROPAGATES = False

    webhook.post(event_payload("evt_6", "invoice.paid", {"id": "in_6"}))

    stored = WebhookEvent.objects.get()
    assert stored.status == "failed"
    assert "Stripe timed out" in stored.last_error

    assert webhook_events_replay(event_ids=[stored.pk]) == 1
    webhook_event_apply.delay(stored.pk)
    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == ("succeeded", 2)
    assert calls == ["evt_6", "evt_6"]


def test_events_left_received_are_found_by_the_redrive(settings) -> None:  # type: ignore[no-untyped-def]
    settings.BILLING_EVENT_REDRIVE_AFTER = 0
    left = WebhookEventFactory(stripe_id="evt_7", type="invoice.paid")
    assert webhook_events_pending_ids() == [left.pk]
