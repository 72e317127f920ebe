"""Applying Stripe's state of a subscription: what is written, and how little it costs, since
webhook events re-fetch and apply one (bench/webhook_ingress.py measures it)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from billing import services, stripe_gateway
from billing.errors import BillingError, BillingErrorCode
from billing.models import Subscription
from billing.plans import plan_push
from billing.services import customer_ensure, subscription_apply
from billing.stripe_gateway import StripeSubscription
from membership.models import Entitlement, EntitlementEvent, Plan
from tests.factories import CustomerFactory, PlanFactory, UserFactory, stripe_subscription_data

pytestmark = pytest.mark.django_db

PERIOD_END = 1_900_000_000  # 2030


def stripe_state(
    *, user_id: int, plan_id: int, status: str = "active", **extra: Any
) -> StripeSubscription:
    """A subscription as Stripe sends it, reduced to the keys Masthead reads."""
    data = stripe_subscription_data(
        id="sub_bench",
        customer="cus_bench",
        status=status,
        user_id=user_id,
        plan_id=plan_id,
        price_id="price_bench",
        period_end=datetime.fromtimestamp(PERIOD_END, tz=UTC),
        **extra,
    )
    return StripeSubscription.from_api(data)


def customer_and_plan() -> tuple[User, Plan]:
    """A reader whose Stripe customer is ``cus_bench`` (as in ``stripe_state``), and a plan."""
    reader, plan = UserFactory(), PlanFactory()
    CustomerFactory(user=reader, stripe_id="cus_bench")
    return reader, plan


def sql(captured: CaptureQueriesContext) -> list[str]:
    """The statements run, without the savepoints of the test's own transaction."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_a_new_subscription_is_stored_with_its_reader_and_access() -> None:
    reader, plan = customer_and_plan()

    subscription = subscription_apply(
        stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk), fetched_at=timezone.now()
    )

    assert subscription.user == reader
    assert subscription.plan == plan
    assert subscription.entitlement is not None
    assert subscription.entitlement.user == reader
    assert Subscription.objects.get().entitlement == subscription.entitlement


def test_a_new_subscription_row_is_stored_before_its_access_is_granted() -> None:
    """The row comes first, so a second caller applying the subscription at once waits
    for it (tests/billing/test_sync_race.py) instead of granting access of its own."""
    reader, plan = customer_and_plan()

    with CaptureQueriesContext(connection) as captured:
        subscription_apply(
            stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk), fetched_at=timezone.now()
        )

    writes = [s.split('"')[1] for s in sql(captured) if s.startswith(("INSERT", "UPDATE"))]
    assert writes == [
        "billing_subscription",
        "membership_entitlement",
        "membership_entitlementevent",
        "billing_subscription",
    ]


def test_a_subscription_stored_meanwhile_by_another_worker_gets_the_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another worker stores the row between this one's look-up and its insert."""
    reader, plan = customer_and_plan()
    now = timezone.now()
    locked_rows = services._subscriptions_for_update

    def other_worker_stores_it_after_the_look_up() -> Any:
        if not Subscription.objects.exists():
            Subscription.objects.create(
                stripe_id="sub_bench", status="incomplete", synced_at=now - timedelta(seconds=5)
            )
            return locked_rows().none()
        return locked_rows()

    monkeypatch.setattr(
        services, "_subscriptions_for_update", other_worker_stores_it_after_the_look_up
    )
    applied = subscription_apply(
        stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk), fetched_at=now
    )

    stored = Subscription.objects.get()
    assert applied.pk == stored.pk
    assert (stored.status, stored.user, stored.synced_at) == ("active", reader, now)
    assert stored.entitlement is not None and stored.entitlement.ends_at > now
    assert Entitlement.objects.count() == 1


def test_a_newer_state_that_moves_no_access_writes_only_the_subscription() -> None:
    reader, plan = customer_and_plan()
    first = timezone.now()
    subscription_apply(stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk), fetched_at=first)

    with CaptureQueriesContext(connection) as captured:
        updated = subscription_apply(
            stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk, cancel_at_period_end=False),
            fetched_at=first + timedelta(seconds=1),
        )

    writes = [s for s in sql(captured) if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and writes[0].startswith('UPDATE "billing_subscription"')
    # the plan, the locked subscription with its reader, the locked entitlement (twice: the
    # sync, then the change it finds empty), and the one update
    assert len(sql(captured)) <= 5
    assert updated.synced_at == first + timedelta(seconds=1)
    assert Entitlement.objects.count() == 1
    assert EntitlementEvent.objects.count() == 1


def test_a_newer_state_that_ends_access_moves_the_entitlement() -> None:
    reader, plan = customer_and_plan()
    first = timezone.now()
    subscription_apply(stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk), fetched_at=first)

    ended = subscription_apply(
        stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk, status="canceled"),
        fetched_at=first + timedelta(seconds=1),
    )

    assert ended.entitlement is not None
    assert ended.entitlement.ends_at <= timezone.now()
    assert Subscription.objects.get().status == "canceled"


def test_an_older_state_is_dropped() -> None:
    reader, plan = customer_and_plan()
    now = timezone.now()
    subscription_apply(stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk), fetched_at=now)

    kept = subscription_apply(
        stripe=stripe_state(user_id=reader.pk, plan_id=plan.pk, status="canceled"),
        fetched_at=now - timedelta(seconds=1),
    )

    assert kept.status == "active"
    assert Subscription.objects.get().status == "active"


def test_the_gateway_returns_the_subscription_as_plain_data_with_its_invoice(
    sandbox_api: Any,
) -> None:
    reader = UserFactory()
    prices = plan_push(plan_id=PlanFactory().pk)
    customer = customer_ensure(user=reader)
    created = sandbox_api.client().v1.subscriptions.create(
        params={
            "customer": customer.stripe_id,
            "items": [{"price": prices.monthly_price_id}],
            "default_payment_method": "pm_card_visa",
        }
    )

    fetched = stripe_gateway.subscription_retrieve(subscription_id=created.id)

    assert isinstance(fetched, StripeSubscription) and isinstance(fetched.data, dict)
    assert fetched.id == created.id
    assert fetched.latest_invoice is not None  # expanded
    assert fetched.latest_invoice.status == "paid"


def test_the_gateway_answers_a_subscription_stripe_does_not_have_with_not_found(
    sandbox_api: Any,
) -> None:
    with pytest.raises(BillingError) as refused:
        stripe_gateway.subscription_retrieve(subscription_id="sub_missing")

    assert refused.value.code == BillingErrorCode.NOT_FOUND
