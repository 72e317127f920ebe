"""Plans pushed to Stripe: a product with a monthly and a yearly price, through the real SDK
and the sandbox; a new amount is a new price; the portal lists the plans on sale."""

from typing import Any

import pytest

from billing import tasks
from billing.errors import BillingError, BillingErrorCode
from billing.models import PlanPrices, PortalConfiguration, SyncStatus
from billing.plans import plan_push
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def stripe_prices(sandbox: Any, product_id: str) -> dict[str, Any]:
    """Every price of the product at Stripe, by id."""
    listed = sandbox.client().v1.prices.list(params={"product": product_id, "limit": 100})
    return {price.id: price for price in listed.data}


def newest_event_id(sandbox: Any) -> str:
    return str(sandbox.client().v1.events.list(params={"limit": 1}).data[0].id)


def stripe_events_about(sandbox: Any, object_ids: set[str], after: str) -> list[str]:
    """Types of the events Stripe emitted after event ``after`` about any of ``object_ids``."""
    listed = sandbox.client().v1.events.list(params={"limit": 100}).data
    newer = listed[: [event.id for event in listed].index(after)]
    objects = [(event.type, event.data.object.to_dict()) for event in newer]
    return [
        kind
        for kind, obj in objects
        if obj.get("id") in object_ids or obj.get("product") in object_ids
    ]


def test_pushing_a_plan_creates_its_product_and_a_monthly_and_a_yearly_price(
    sandbox_api: Any,
) -> None:
    plan = PlanFactory(
        name="Essential", description="Four titles", monthly_amount=799, yearly_amount=7900
    )

    record = plan_push(plan_id=plan.pk)

    product = sandbox_api.client().v1.products.retrieve(record.product_id)
    assert (product.name, product.description) == ("Essential", "Four titles")
    assert product.metadata["plan_id"] == str(plan.pk)
    prices = stripe_prices(sandbox_api, record.product_id)
    assert set(prices) == {record.monthly_price_id, record.yearly_price_id}
    monthly, yearly = prices[record.monthly_price_id], prices[record.yearly_price_id]
    assert (monthly.unit_amount, monthly.currency, monthly.recurring.interval) == (
        799,
        "gbp",
        "month",
    )
    assert (yearly.unit_amount, yearly.recurring.interval) == (7900, "year")
    assert monthly.active and yearly.active
    assert monthly.metadata.to_dict() == {"plan_id": str(plan.pk), "interval": "month"}
    assert yearly.metadata.to_dict() == {"plan_id": str(plan.pk), "interval": "year"}
    record.refresh_from_db()
    assert (record.status, record.last_error) == (SyncStatus.SYNCED, "")
    assert (record.monthly_amount, record.yearly_amount, record.currency) == (799, 7900, "gbp")
    assert record.synced_at is not None


def test_pushing_a_plan_again_changes_nothing_at_stripe(sandbox_api: Any) -> None:
    plan = PlanFactory()
    first = plan_push(plan_id=plan.pk)
    configuration_id = PortalConfiguration.objects.get().stripe_id
    marker = newest_event_id(sandbox_api)

    again = plan_push(plan_id=plan.pk)

    assert (again.product_id, again.monthly_price_id, again.yearly_price_id) == (
        first.product_id,
        first.monthly_price_id,
        first.yearly_price_id,
    )
    assert len(stripe_prices(sandbox_api, first.product_id)) == 2
    watched = {first.product_id, first.monthly_price_id, first.yearly_price_id, configuration_id}
    assert stripe_events_about(sandbox_api, watched, marker) == []


def test_a_new_monthly_amount_makes_a_new_price_and_takes_the_old_one_off_sale(
    sandbox_api: Any,
) -> None:
    plan = PlanFactory(monthly_amount=999, yearly_amount=9999)
    before = plan_push(plan_id=plan.pk)
    old_monthly = before.monthly_price_id
    plan.monthly_amount = 1099
    plan.save()

    after = plan_push(plan_id=plan.pk)

    assert after.monthly_price_id != old_monthly
    assert after.yearly_price_id == before.yearly_price_id
    prices = stripe_prices(sandbox_api, after.product_id)
    assert prices[after.monthly_price_id].unit_amount == 1099
    assert prices[after.monthly_price_id].active
    assert not prices[old_monthly].active
    assert after.monthly_amount == 1099


def test_a_new_currency_makes_new_prices_for_both_intervals(sandbox_api: Any) -> None:
    plan = PlanFactory(currency="gbp")
    before = plan_push(plan_id=plan.pk)
    plan.currency = "EUR"
    plan.save()

    after = plan_push(plan_id=plan.pk)

    prices = stripe_prices(sandbox_api, after.product_id)
    assert {prices[after.monthly_price_id].currency, prices[after.yearly_price_id].currency} == {
        "eur"
    }
    assert not prices[before.monthly_price_id].active
    assert not prices[before.yearly_price_id].active


def test_going_back_to_an_earlier_amount_puts_its_price_back_on_sale(sandbox_api: Any) -> None:
    plan = PlanFactory(monthly_amount=999)
    first = plan_push(plan_id=plan.pk).monthly_price_id
    plan.monthly_amount = 1299
    plan.save()
    second = plan_push(plan_id=plan.pk).monthly_price_id
    plan.monthly_amount = 999
    plan.save()

    third = plan_push(plan_id=plan.pk).monthly_price_id

    prices = stripe_prices(sandbox_api, PlanPrices.objects.get(plan=plan).product_id)
    assert third == first
    assert prices[first].active
    assert not prices[second].active
    plan.monthly_amount = 1299
    plan.save()
    assert plan_push(plan_id=plan.pk).monthly_price_id == second
    assert not stripe_prices(sandbox_api, PlanPrices.objects.get(plan=plan).product_id)[
        first
    ].active


def test_a_plan_taken_off_sale_has_its_product_and_prices_taken_off_sale(
    sandbox_api: Any,
) -> None:
    plan = PlanFactory()
    before = plan_push(plan_id=plan.pk)
    plan.is_active = False
    plan.save()

    after = plan_push(plan_id=plan.pk)

    prices = stripe_prices(sandbox_api, before.product_id)
    assert not any(price.active for price in prices.values())
    assert not sandbox_api.client().v1.products.retrieve(before.product_id).active
    assert (after.status, after.monthly_price_id, after.yearly_price_id) == (
        SyncStatus.SYNCED,
        "",
        "",
    )


def test_the_portal_configuration_lists_the_plans_on_sale_with_their_prices(
    sandbox_api: Any,
) -> None:
    essential = plan_push(plan_id=PlanFactory(display_order=1).pk)
    premium = plan_push(plan_id=PlanFactory(display_order=2).pk)
    withdrawn_plan = PlanFactory(display_order=3)
    plan_push(plan_id=withdrawn_plan.pk)
    withdrawn_plan.is_active = False
    withdrawn_plan.save()
    plan_push(plan_id=withdrawn_plan.pk)

    configuration_id = PortalConfiguration.objects.get().stripe_id
    configuration = sandbox_api.client().v1.billing_portal.configurations.retrieve(configuration_id)

    update = configuration.features.subscription_update
    assert update.enabled
    listed = [(entry.product, set(entry.prices)) for entry in update.products]
    assert listed == [
        (essential.product_id, {essential.monthly_price_id, essential.yearly_price_id}),
        (premium.product_id, {premium.monthly_price_id, premium.yearly_price_id}),
    ]
    assert configuration.default_return_url.endswith("/account/")


def test_stripe_refusing_leaves_the_plan_failed_with_the_error(sandbox_api: Any) -> None:
    plan = PlanFactory()
    PlanPrices.objects.create(plan=plan, product_id="prod_deleted_at_stripe")

    with pytest.raises(BillingError) as refused:
        plan_push(plan_id=plan.pk)

    assert refused.value.code == BillingErrorCode.NOT_FOUND
    record = PlanPrices.objects.get(plan=plan)
    assert record.status == SyncStatus.FAILED
    assert "prod_deleted_at_stripe" in record.last_error
    assert "no such object" in record.last_error.lower()


def test_a_plan_off_sale_that_was_never_pushed_needs_nothing_at_stripe(sandbox_api: Any) -> None:
    plan = PlanFactory(is_active=False)

    record = plan_push(plan_id=plan.pk)

    assert (record.status, record.product_id) == (SyncStatus.SYNCED, "")


def test_the_push_task_reports_a_refusal_without_raising(sandbox_api: Any) -> None:
    plan = PlanFactory()
    PlanPrices.objects.create(plan=plan, product_id="prod_deleted_at_stripe")

    assert tasks.plan_push.delay(plan.pk).get() == SyncStatus.FAILED
    assert tasks.plan_push.delay(plan.pk + 1000).get() == "deleted"
