"""The billing admin: saving a plan pushes it to Stripe (sandbox) and shows the sync status;
read-only mirrors of customers, subscriptions and events; replaying failed events."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    Customer,
    PlanPrices,
    PortalConfiguration,
    SyncStatus,
    WebhookEventStatus,
)
from membership.models import Plan
from tests.factories import (
    CustomerFactory,
    PlanFactory,
    StaffFactory,
    SubscriptionFactory,
    UserFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client: Client) -> Client:
    client.force_login(StaffFactory())
    return client


def plan_form(plan: Plan | None = None, **changes: Any) -> dict[str, Any]:
    """The plan form as an editor submits it."""
    data = {
        "name": plan.name if plan else "Weekend",
        "slug": plan.slug if plan else "weekend",
        "description": "Saturday and Sunday editions",
        "monthly_amount": "4.99",
        "yearly_amount": "49.00",
        "currency": "gbp",
        "trial_days": "14",
        "all_titles": "on",
        "is_active": "on",
        "display_order": "0",
    }
    return {**data, **changes}


def test_saving_a_new_plan_pushes_it_to_stripe_and_the_page_shows_it_synced(
    sandbox_api: Any, editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = editor_client.post(reverse("admin:membership_plan_add"), plan_form())

    assert response.status_code == 302
    assert len(queued) == 1
    plan = Plan.objects.get(slug="weekend")
    record = PlanPrices.objects.get(plan=plan)
    assert record.status == SyncStatus.SYNCED
    monthly = sandbox_api.client().v1.prices.retrieve(record.monthly_price_id)
    assert (monthly.unit_amount, monthly.recurring.interval) == (499, "month")
    page = editor_client.get(reverse("admin:membership_plan_change", args=[plan.pk]))
    assert page.status_code == 200
    shown_prices = (f"{record.monthly_price_id} (£4.99)", f"{record.yearly_price_id} (£49.00)")
    for shown in ("In step with Stripe", record.product_id, *shown_prices):
        assert shown in page.content.decode()


def test_saving_a_plan_without_committing_pushes_nothing(
    sandbox_api: Any, editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        editor_client.post(reverse("admin:membership_plan_add"), plan_form())

    assert len(queued) == 1  # the push waits for the commit
    assert PlanPrices.objects.get(plan__slug="weekend").status == SyncStatus.PENDING


def test_a_push_stripe_refuses_shows_failed_with_the_error_and_no_500(
    sandbox_api: Any, editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    plan = PlanFactory()
    PlanPrices.objects.create(plan=plan, product_id="prod_deleted_at_stripe")

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("admin:membership_plan_change", args=[plan.pk]), plan_form(plan)
        )

    assert response.status_code == 302
    assert PlanPrices.objects.get(plan=plan).status == SyncStatus.FAILED
    page = editor_client.get(reverse("admin:membership_plan_change", args=[plan.pk])).content
    assert b"Stripe refused or could not be reached" in page
    assert b"product prod_deleted_at_stripe: Stripe has no such object." in page


def test_the_push_to_stripe_action_pushes_the_selected_plans(
    sandbox_api: Any, editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    plans = [PlanFactory(), PlanFactory()]

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("admin:membership_plan_changelist"),
            {"action": "push_to_stripe", "_selected_action": [plan.pk for plan in plans]},
            follow=True,
        )

    assert "Queued 2 plan(s) for Stripe." in response.content.decode()
    assert list(PlanPrices.objects.values_list("status", flat=True)) == ["synced", "synced"]
    configuration_id = PortalConfiguration.objects.get().stripe_id
    listed = sandbox_api.client().v1.billing_portal.configurations.retrieve(configuration_id)
    assert len(listed.features.subscription_update.products) == 2


def test_the_billing_admin_pages_answer(editor_client: Client) -> None:
    reader = UserFactory()
    customer = CustomerFactory(user=reader, stripe_id="cus_admin")
    subscription = SubscriptionFactory(
        stripe_id="sub_admin",
        user=reader,
        customer_stripe_id=customer.stripe_id,
        plan=PlanFactory(),
        status="past_due",
        current_period_end=timezone.now() + timedelta(days=20),
        payment_failed_at=timezone.now(),
    )
    event = WebhookEventFactory(stripe_id="evt_admin", type="invoice.paid", object_id="in_1")
    configuration = PortalConfiguration.objects.create(stripe_id="bpc_admin")
    member = reverse("admin:accounts_user_change", args=[reader.pk])
    pages = {
        reverse("admin:billing_customer_changelist") + "?q=cus_admin": member,
        reverse("admin:billing_customer_change", args=[customer.pk]): member,
        reverse("admin:billing_subscription_changelist") + "?status=past_due": "Failing since",
        reverse("admin:billing_subscription_change", args=[subscription.pk]): member,
        reverse("admin:billing_webhookevent_changelist") + "?type=invoice.paid&q=evt_": "evt_admin",
        reverse("admin:billing_webhookevent_change", args=[event.pk]): "&quot;in_1&quot;",
        reverse("admin:billing_portalconfiguration_change", args=[configuration.pk]): "bpc_admin",
        reverse("admin:membership_plan_changelist"): "not pushed yet",
    }
    for url, shown in pages.items():
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert shown in response.content.decode(), url
    add = editor_client.get(reverse("admin:billing_subscription_add"))
    assert add.status_code == 403


def test_replaying_a_failed_event_applies_it_again(
    editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    CustomerFactory(stripe_id="cus_gone")
    failed = WebhookEventFactory(
        stripe_id="evt_failed",
        type="customer.deleted",
        object_id="cus_gone",
        status=WebhookEventStatus.FAILED,
        attempts=9,
        last_error="OperationalError: database is locked",
    )
    done = WebhookEventFactory(
        stripe_id="evt_done",
        type="customer.deleted",
        object_id="cus_other",
        status=WebhookEventStatus.SUCCEEDED,
        attempts=1,
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("admin:billing_webhookevent_changelist"),
            {"action": "replay_selected", "_selected_action": [failed.pk, done.pk]},
            follow=True,
        )

    assert "Replaying 1 event(s); 1 not failed, left as they were." in response.content.decode()
    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("succeeded", 10, "")
    assert not Customer.objects.filter(stripe_id="cus_gone").exists()
    assert (done.status, done.attempts) == ("succeeded", 1)


def test_replaying_from_the_failed_filter_counts_what_was_selected(
    editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    failed = WebhookEventFactory(
        stripe_id="evt_failed_filtered",
        type="customer.deleted",
        object_id="cus_none",
        status=WebhookEventStatus.FAILED,
        attempts=3,
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("admin:billing_webhookevent_changelist") + "?status__exact=failed",
            {"action": "replay_selected", "_selected_action": [failed.pk]},
            follow=True,
        )

    page = response.content.decode()
    assert "Replaying 1 event(s)." in page
    assert "not failed" not in page


def test_customers_and_subscriptions_name_the_member_by_email(editor_client: Client) -> None:
    reader = UserFactory(email="named.reader@example.com")
    CustomerFactory(user=reader, stripe_id="cus_named")
    SubscriptionFactory(stripe_id="sub_named", user=reader, customer_stripe_id="cus_named")

    for name in ("customer", "subscription"):
        page = editor_client.get(reverse(f"admin:billing_{name}_changelist")).content.decode()
        assert ">named.reader@example.com</a>" in page, name
        assert "member #" not in page, name
