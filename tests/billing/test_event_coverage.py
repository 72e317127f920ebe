"""A burst of webhook events about one subscription costs one fetch from Stripe: an event is
applied without asking Stripe again only when a fetch that began after it was stored has
been applied. Against the offline Stripe, with the gateway's fetches counted."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from django.db import connection

from billing import stripe_gateway
from billing.events import webhook_event_process, webhook_event_store
from billing.models import Subscription, WebhookEvent
from billing.services import subscription_sync
from billing.stripe_gateway import StripeEvent
from tests.billing.conftest import event_payload
from tests.billing.paying import plan_on_sale, subscribe
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The subscriptions the gateway fetched from Stripe, in order."""
    seen: list[str] = []
    fetch = stripe_gateway.subscription_retrieve

    def counted(*, subscription_id: str) -> dict[str, Any]:
        seen.append(subscription_id)
        return fetch(subscription_id=subscription_id)

    monkeypatch.setattr(stripe_gateway, "subscription_retrieve", counted)
    return seen


@pytest.fixture
def paying(sandbox_api: Any) -> tuple[Any, Subscription]:
    """A reader's live subscription at the sandbox, mirrored; and an SDK client for it."""
    client = sandbox_api.client()
    return client, subscribe(client, UserFactory(), plan_on_sale())


def stored(number: int, event_type: str, obj: dict[str, Any]) -> WebhookEvent:
    payload = event_payload(f"evt_cover_{number}", event_type, obj)
    event, _ = webhook_event_store(event=StripeEvent.from_api(payload))
    return event


def invoice_of(subscription_id: str) -> dict[str, Any]:
    parent = {"subscription_details": {"subscription": subscription_id}}
    return {"id": "in_cover", "object": "invoice", "parent": parent}


def apply(event: WebhookEvent) -> str:
    return webhook_event_process(event_id=event.pk)


def end_at_period_end(client: Any, subscription: Subscription) -> None:
    client.v1.subscriptions.update(subscription.stripe_id, params={"cancel_at_period_end": True})


def test_events_stored_before_a_fetch_are_applied_by_it(paying, fetches) -> None:  # type: ignore[no-untyped-def]
    client, subscription = paying
    end_at_period_end(client, subscription)  # Stripe's change the three events announce
    burst = [
        stored(1, "customer.subscription.updated", {"id": subscription.stripe_id}),
        stored(2, "invoice.paid", invoice_of(subscription.stripe_id)),
        stored(3, "customer.subscription.updated", {"id": subscription.stripe_id}),
    ]

    outcomes = [apply(event) for event in burst]

    assert outcomes == ["succeeded"] * 3
    assert fetches == [subscription.stripe_id]
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is True
    assert subscription.entitlement is not None
    assert subscription.entitlement.ends_at == subscription.current_period_end


def test_an_event_stored_after_the_fetch_began_is_fetched_again(paying, fetches) -> None:  # type: ignore[no-untyped-def]
    client, subscription = paying
    assert apply(stored(1, "customer.subscription.updated", {"id": subscription.stripe_id})) == (
        "succeeded"
    )

    end_at_period_end(client, subscription)
    later = stored(2, "customer.subscription.updated", {"id": subscription.stripe_id})
    apply(later)

    assert fetches == [subscription.stripe_id] * 2
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is True


def test_an_event_arriving_while_stripe_answers_is_not_taken_as_seen(  # type: ignore[no-untyped-def]
    paying, fetches, monkeypatch
) -> None:
    """The fetch's answer predates the change the event announces, though the event's row is
    written before that answer is stored."""
    client, subscription = paying
    fetch: Callable[..., dict[str, Any]] = stripe_gateway.subscription_retrieve
    arrived: list[WebhookEvent] = []

    def answer_then_change(*, subscription_id: str) -> dict[str, Any]:
        data = fetch(subscription_id=subscription_id)
        if not arrived:
            end_at_period_end(client, subscription)
            arrived.append(stored(2, "customer.subscription.updated", {"id": subscription_id}))
        return data

    monkeypatch.setattr(stripe_gateway, "subscription_retrieve", answer_then_change)
    apply(stored(1, "customer.subscription.updated", {"id": subscription.stripe_id}))
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is False

    apply(arrived[0])

    assert fetches == [subscription.stripe_id] * 2
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is True


def test_other_syncs_always_ask_stripe(paying, fetches) -> None:  # type: ignore[no-untyped-def]
    """Reconciliation, the success page and Masthead's own changes pass no event: they fetch."""
    _, subscription = paying
    subscription_sync(subscription_id=subscription.stripe_id)
    subscription_sync(subscription_id=subscription.stripe_id)

    assert fetches == [subscription.stripe_id] * 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the fetch turn is PostgreSQL's advisory lock"
)
@pytest.mark.django_db(transaction=True)
def test_workers_taking_one_subscriptions_events_at_once_fetch_it_once(  # type: ignore[no-untyped-def]
    sandbox_api, fetches
) -> None:
    """Two workers take the first two events of a subscription Masthead has not seen: one
    fetches while the other waits its turn, then finds its event already applied."""
    subscription = subscribe(sandbox_api.client(), UserFactory(), plan_on_sale())
    Subscription.objects.filter(pk=subscription.pk).delete()
    fetches.clear()
    burst = [
        stored(1, "customer.subscription.created", {"id": subscription.stripe_id}),
        stored(2, "invoice.paid", invoice_of(subscription.stripe_id)),
    ]
    start = Barrier(len(burst))

    def worker(event: WebhookEvent) -> str:
        try:
            start.wait()
            return apply(event)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(burst)) as pool:
        outcomes = list(pool.map(worker, burst))

    assert outcomes == ["succeeded", "succeeded"]
    assert fetches == [subscription.stripe_id]
    assert Subscription.objects.get(stripe_id=subscription.stripe_id).entitlement is not None
