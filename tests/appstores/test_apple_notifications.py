"""Apple's subscriptions end to end: the sandbox process signs as Apple does, Masthead's door
verifies with Apple's own library (checks on), a worker fetches the newest state from the
sandbox's App Store Server API and the reader's access follows."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from appstores import tasks
from appstores.models import (
    StoreNotification,
    StoreSubscription,
    StoreSubscriptionEvent,
    StoreSubscriptionStatus,
)
from membership.access import AccessDecision, AccessReason, article_access
from membership.models import Entitlement, EntitlementEvent
from membership.services.app_accounts import app_account_token_get
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber(stores, store_plan):
    """A reader who bought the monthly subscription on an iPhone; SUBSCRIBED delivered."""
    reader = UserFactory()
    bought = stores.apple_buy(app_account_token_get(user=reader))
    assert stores.apple_deliver(bought).status_code == 200
    return reader, bought["original_transaction_id"]


def _access(reader):
    return article_access(reader=reader, article=ArticleFactory())


def _subscription(original_id):
    return StoreSubscription.objects.get(external_id=original_id)


def test_a_purchase_notification_gives_access_until_the_period_ends(subscriber):
    reader, original_id = subscriber

    subscription = _subscription(original_id)
    assert subscription.user == reader
    assert subscription.status == StoreSubscriptionStatus.ACTIVE
    assert subscription.plan.slug == "digital"
    assert subscription.environment == "Sandbox"
    assert subscription.access_until > timezone.now() + timedelta(days=29)
    assert _access(reader) == AccessDecision(True, AccessReason.APPLE)
    entitlement = Entitlement.objects.get(user=reader)
    assert (entitlement.source, entitlement.ends_at) == ("apple", subscription.access_until)
    assert StoreNotification.objects.get().status == "succeeded"


def test_a_renewal_moves_the_end_of_access(stores, subscriber):
    reader, original_id = subscriber
    first_end = _subscription(original_id).access_until

    answer = stores.apple_act(original_id, "renew")
    stores.apple_deliver(answer)

    assert answer["notification_type"] == "DID_RENEW"
    assert _subscription(original_id).access_until == first_end + timedelta(days=30)
    assert Entitlement.objects.get(user=reader).ends_at == first_end + timedelta(days=30)


def test_a_failed_renewal_in_the_grace_period_keeps_access_until_the_grace_ends(stores, subscriber):
    reader, original_id = subscriber

    answer = stores.apple_act(original_id, "grace")
    stores.apple_deliver(answer)

    assert (answer["notification_type"], answer["subtype"]) == ("DID_FAIL_TO_RENEW", "GRACE_PERIOD")
    subscription = _subscription(original_id)
    assert subscription.status == StoreSubscriptionStatus.GRACE_PERIOD
    assert subscription.grace_until > timezone.now() + timedelta(days=15)
    assert subscription.access_until == subscription.grace_until
    assert _access(reader).granted


def test_a_failed_renewal_without_grace_ends_access_and_a_recovery_restores_it(stores, subscriber):
    reader, original_id = subscriber

    stores.apple_deliver(stores.apple_act(original_id, "fail"))
    assert _subscription(original_id).status == StoreSubscriptionStatus.BILLING_RETRY
    assert not _access(reader).granted

    stores.apple_deliver(stores.apple_act(original_id, "renew"))
    assert _subscription(original_id).status == StoreSubscriptionStatus.ACTIVE
    assert _access(reader) == AccessDecision(True, AccessReason.APPLE)


@pytest.mark.parametrize("action", ["expire", "refund", "revoke"])
def test_expiry_refund_and_revocation_end_access_at_once(stores, subscriber, action):
    reader, original_id = subscriber

    answer = stores.apple_act(original_id, action)
    stores.apple_deliver(answer)

    subscription = _subscription(original_id)
    assert subscription.status == ("expired" if action == "expire" else "revoked")
    assert not _access(reader).granted
    assert Entitlement.objects.get(user=reader).ends_at <= timezone.now()


def test_a_plan_change_applies_at_the_renewal(stores, subscriber, store_plan):
    from appstores.models import StoreProduct
    from tests.factories import PlanFactory, TitleFactory

    reader, original_id = subscriber
    courier = TitleFactory(slug="courier")
    one_title = PlanFactory(slug="courier-only", all_titles=False)
    one_title.titles.set([courier])
    StoreProduct.objects.create(
        store="apple", product_id="masthead.courier.monthly", plan=one_title
    )

    stores.apple_deliver(
        stores.apple_act(original_id, "change_pref", product_id="masthead.courier.monthly")
    )
    changed = _subscription(original_id)
    assert changed.plan == store_plan  # the plan changes when the subscription renews
    assert changed.auto_renew_product_id == "masthead.courier.monthly"

    stores.apple_deliver(stores.apple_act(original_id, "renew"))

    renewed = _subscription(original_id)
    assert renewed.plan == one_title
    entitlement = Entitlement.objects.get(user=reader)
    assert not entitlement.all_titles
    assert list(entitlement.titles.all()) == [courier]


def test_a_notification_delivered_twice_is_stored_and_applied_once(stores, subscriber):
    _reader, original_id = subscriber
    answer = stores.apple_act(original_id, "renew")

    first = stores.apple_deliver(answer)
    events = EntitlementEvent.objects.count()
    second = stores.apple_deliver(answer)

    assert first.json() == {"received": True, "duplicate": False}
    assert second.json() == {"received": True, "duplicate": True}
    assert (
        StoreNotification.objects.filter(notification_id=answer["notification_uuid"]).count() == 1
    )
    assert EntitlementEvent.objects.count() == events


def test_shuffled_deliveries_end_in_the_newest_state(stores, store_plan):
    reader = UserFactory()
    bought = stores.apple_buy(app_account_token_get(user=reader))
    original_id = bought["original_transaction_id"]
    renewed = stores.apple_act(original_id, "renew")
    expired = stores.apple_act(original_id, "expire")

    for answer in (expired, renewed, bought):  # the newest first, the purchase last
        assert stores.apple_deliver(answer).status_code == 200

    assert _subscription(original_id).status == StoreSubscriptionStatus.EXPIRED
    assert not _access(reader).granted
    assert StoreNotification.objects.filter(status="succeeded").count() == 3
    assert not Entitlement.objects.live().filter(user=reader).exists()


def test_a_notification_stored_while_the_broker_is_down_is_applied_by_the_redrive(
    stores, store_plan, settings
):
    settings.APPSTORES_REDRIVE_AFTER_SECONDS = 0
    reader = UserFactory()
    bought = stores.apple_buy(app_account_token_get(user=reader))
    broker_down = mock.patch.object(
        tasks.store_notification_apply, "delay", side_effect=ConnectionError("broker down")
    )

    with broker_down:
        assert stores.apple_deliver(bought).status_code == 200
    assert StoreNotification.objects.get().status == "received"
    assert not _access(reader).granted

    assert tasks.store_notifications_redrive() == 1

    assert StoreNotification.objects.get().status == "succeeded"
    assert _access(reader).granted


def test_a_failed_notification_can_be_replayed(stores, store_plan, settings):
    from appstores.notifications import store_notifications_replay

    reader = UserFactory()
    bought = stores.apple_buy(app_account_token_get(user=reader))
    settings.APPLE_API_BASE = "http://127.0.0.1:9"  # the App Store cannot be reached
    assert stores.apple_deliver(bought).status_code == 200  # answered; applying it fails
    row = StoreNotification.objects.get()
    assert row.status == "failed"
    assert "cannot be reached" in row.last_error
    settings.APPLE_API_BASE = stores.sandbox.url

    assert store_notifications_replay(notification_ids=[row.pk]) == 1
    tasks.store_notification_apply(row.pk)

    row.refresh_from_db()
    assert row.status == "succeeded"
    assert _access(reader).granted


def test_a_notification_for_a_purchase_without_a_token_waits_for_the_app_to_link_it(
    stores, store_plan
):
    bought = stores.apple_buy(None)

    stores.apple_deliver(bought)

    subscription = _subscription(bought["original_transaction_id"])
    assert subscription.user is None
    assert subscription.status == StoreSubscriptionStatus.ACTIVE
    assert not Entitlement.objects.exists()
    assert not StoreSubscriptionEvent.objects.filter(kind="linked").exists()
