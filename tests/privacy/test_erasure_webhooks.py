"""Erasure while Stripe (the sandbox) delivers its signed webhooks to the live server: the
events Stripe sends about the deletion carry the reader's address, and the beat re-drive
scrubs them, so the dump names the reader nowhere once they have arrived."""

import time
from collections.abc import Callable
from typing import Any

import pytest

from billing.models import WebhookEvent
from membership.models import OutboxMessage, OutboxStatus
from privacy.services import erasure_request, erasure_run
from privacy.tasks import erasures_redrive
from tests.billing import conftest as billing_fixtures
from tests.billing.paying import plan_on_sale, subscribe
from tests.privacy.conftest import rich_reader

sandbox_webhooks = billing_fixtures.sandbox_webhooks
_shared_sandbox = billing_fixtures._shared_sandbox
sandbox_api = billing_fixtures.sandbox_api

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def settled(sandbox: Any) -> bool:
    deliveries = sandbox.deliveries()
    done = deliveries and all(d["status"] == "succeeded" for d in deliveries)
    busy = WebhookEvent.objects.filter(status__in=["received", "processing"]).exists()
    return bool(done and not busy)


def test_events_stripe_sends_after_the_erasure_are_scrubbed_by_the_redrive(sandbox_webhooks, dump):
    reader = rich_reader()
    subscribe(sandbox_webhooks.client(), reader.user, plan_on_sale())
    wait_for(lambda: settled(sandbox_webhooks), "the subscription's events")
    request = erasure_request(user=reader.user)
    assert erasure_run(request_id=request.pk) == "done"

    wait_for(
        lambda: (
            WebhookEvent.objects.filter(type="customer.deleted").exists()
            and settled(sandbox_webhooks)
        ),
        "the customer's deletion to be delivered",
    )
    erasures_redrive()
    request.refresh_from_db()

    assert reader.email not in dump()
    assert reader.name not in dump()
    deleted = WebhookEvent.objects.get(type="customer.deleted").payload["data"]["object"]
    assert deleted["id"] in request.stripe_customer_ids
    assert deleted["email"] == "[erased]"


def test_an_event_that_arrives_after_the_erasure_is_scrubbed_by_the_redrive(sandbox_api):
    reader = rich_reader()
    subscription = subscribe(sandbox_api.client(), reader.user, plan_on_sale())
    request = erasure_request(user=reader.user)
    erasure_run(request_id=request.pk)
    late = WebhookEvent.objects.create(
        stripe_id="evt_late",
        type="customer.updated",
        status="succeeded",
        payload={
            "data": {
                "object": {"id": subscription.customer_stripe_id, "email": reader.email},
                "previous_attributes": {"name": reader.name},
            }
        },
    )

    erasures_redrive()

    late.refresh_from_db()
    assert late.payload["data"]["object"]["email"] == "[erased]"
    assert late.payload["data"]["previous_attributes"]["name"] == "[erased]"


def test_an_email_queued_after_the_erasure_is_scrubbed_and_never_sent(sandbox_api) -> None:
    """Stripe's word that the erasure's cancellation took effect can reach a worker after
    the erasure emptied the outbox and before it emptied the account: the email it queues
    (the subscription ended) is scrubbed by the re-drive, and given up unsent."""
    reader = rich_reader()
    subscribe(sandbox_api.client(), reader.user, plan_on_sale())
    address = reader.user.email
    request = erasure_request(user=reader.user)
    erasure_run(request_id=request.pk)
    late = OutboxMessage.objects.create(
        user_id=reader.user.pk,
        kind="subscription_ended",
        object_ref="sub_late",
        fact="ended",
        to=address,
        subject="Your membership has ended",
        body=f"Goodbye, {reader.name}.",
    )

    erasures_redrive()

    late.refresh_from_db()
    assert late.to != address and reader.name not in late.body
    assert late.user_id is None
    assert late.status == OutboxStatus.FAILED
