"""Two callers applying a subscription Masthead has not stored yet, at the same moment (the
Checkout success page and the webhook worker): the reader gets one entitlement, and when
Stripe cancels the subscription no access is left past that moment.

Against the offline Stripe, on the test database (SQLite or PostgreSQL), each caller in a
thread of its own with its own connection. Stripe's answer is held until both callers have
it, so both go on to write at once wherever the database lets them.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext, suppress
from threading import Barrier, BrokenBarrierError
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from billing import services, stripe_gateway
from billing.events import webhook_event_process, webhook_event_store
from billing.models import Subscription
from billing.services import checkout_session_apply, subscription_sync
from billing.stripe_gateway import StripeCheckoutSession, StripeEvent
from membership.access import article_access
from membership.models import Entitlement, EntitlementEvent
from tests.billing.conftest import event_payload
from tests.billing.paying import plan_on_sale, subscription_create
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# How long a caller holding Stripe's answer waits for the other: a caller that waits its
# turn for the subscription never gets there, and the first goes on alone.
RENDEZVOUS_SECONDS = 1.5


@pytest.fixture
def answers_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Hold each caller's fetched subscription until both callers have one (or until the
    rendezvous times out); yields the subscriptions fetched, in order."""
    fetched: list[str] = []
    both = Barrier(2, timeout=RENDEZVOUS_SECONDS)
    fetch = stripe_gateway.subscription_retrieve

    def held(*, subscription_id: str) -> dict[str, Any]:
        data = fetch(subscription_id=subscription_id)
        fetched.append(subscription_id)
        with suppress(BrokenBarrierError):
            both.wait()
        return data

    monkeypatch.setattr(stripe_gateway, "subscription_retrieve", held)
    yield fetched


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run each call in a thread of its own, started together; each closes its connection."""
    start = Barrier(len(calls))

    def run(call: Callable[[], object]) -> object:
        try:
            start.wait()
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def new_subscription(sandbox_api: Any) -> tuple[Any, User, str]:
    """A reader subscribed at Stripe, with nothing about it stored at Masthead."""
    client = sandbox_api.client()
    reader = UserFactory()
    subscription_id = subscription_create(client, reader, plan_on_sale())
    assert not Subscription.objects.exists()
    return client, reader, subscription_id


def assert_one_entitlement_then_none_after_cancel(
    client: Any, reader: User, subscription_id: str
) -> None:
    entitlements = Entitlement.objects.filter(reference=subscription_id)
    assert entitlements.count() == 1, "one entitlement for one subscription"
    granted = EntitlementEvent.objects.filter(entitlement__user=reader, kind="granted")
    assert granted.count() == 1
    stored = Subscription.objects.get(stripe_id=subscription_id)
    assert stored.entitlement == entitlements.get()
    article = ArticleFactory()
    assert article_access(reader=reader, article=article).reason == "subscription"

    client.v1.subscriptions.cancel(subscription_id)
    subscription_sync(subscription_id=subscription_id)
    cancelled = timezone.now()

    assert not Entitlement.objects.filter(user=reader, ends_at__gt=cancelled).exists()
    assert article_access(reader=reader, article=article).granted is False


@pytest.fixture(params=["in_turn", "without_turn"])
def turn(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``in_turn``: callers take the per-subscription fetch turn (PostgreSQL's advisory
    lock), as in production. ``without_turn``: they skip it, so both write at once and only
    the subscription's row lock and the entitlement's constraint stand between them."""
    if request.param == "without_turn":
        monkeypatch.setattr(services, "_fetch_turn", lambda subscription_id: nullcontext(False))
    return str(request.param)


def test_two_syncs_of_a_new_subscription_at_once_grant_one_entitlement(
    sandbox_api: Any, answers_held: list[str], turn: str
) -> None:
    client, reader, subscription_id = new_subscription(sandbox_api)

    def sync() -> Subscription:
        return subscription_sync(subscription_id=subscription_id)

    first, second = at_once(sync, sync)

    assert isinstance(first, Subscription) and isinstance(second, Subscription)
    assert first.pk == second.pk
    if turn == "without_turn":
        assert answers_held == [subscription_id] * 2, "both fetched before either wrote"
    assert_one_entitlement_then_none_after_cancel(client, reader, subscription_id)


def test_the_success_page_and_the_worker_at_once_grant_one_entitlement(
    sandbox_api: Any, answers_held: list[str], turn: str
) -> None:
    """The success page applies the Checkout session while a worker applies the
    subscription's first webhook event."""
    client, reader, subscription_id = new_subscription(sandbox_api)
    customer_id = client.v1.subscriptions.retrieve(subscription_id).customer
    session = StripeCheckoutSession.from_api(
        {
            "client_reference_id": str(reader.pk),
            "customer": customer_id,
            "subscription": subscription_id,
        }
    )
    created = event_payload(
        "evt_race_created", "customer.subscription.created", {"id": subscription_id}
    )
    event, _ = webhook_event_store(event=StripeEvent.from_api(created))

    page, worker = at_once(
        lambda: checkout_session_apply(session=session),
        lambda: webhook_event_process(event_id=event.pk),
    )

    assert isinstance(page, Subscription) and page.user == reader
    assert worker == "succeeded"
    assert_one_entitlement_then_none_after_cancel(client, reader, subscription_id)
