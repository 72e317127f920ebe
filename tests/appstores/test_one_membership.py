"""One membership whatever the store: /me/ says where the reader pays and where to manage it,
the web Checkout refuses a store subscriber, a store purchase on top of a web subscription is
flagged for support and the reader told, reconciliation catches a lost notification, and the
support desk sees store sources."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appstores.models import StoreSubscription, StoreSubscriptionEvent
from appstores.tasks import appstores_reconcile
from billing.models import PlanPrices, SyncStatus
from membership.models import Entitlement, EntitlementSource, OutboxMessage
from membership.services import entitlement_grant
from membership.services.app_accounts import app_account_token_get
from tests.api.conftest import session_token_for
from tests.factories import StaffFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
CHECKOUT = "/api/v1/billing/checkout/"


@pytest.fixture
def reader():
    return UserFactory()


@pytest.fixture
def app(reader):
    return APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))


def test_me_gives_one_stable_app_account_token(reader, app):
    web = APIClient()
    web.force_login(reader)

    first = app.get(ME).json()["app_account_token"]

    assert web.get(ME).json()["app_account_token"] == first
    assert app.get(ME).json()["app_account_token"] == first
    assert first == str(app_account_token_get(user=reader))


def test_me_tells_an_apple_subscriber_where_to_manage_the_subscription(
    stores, store_plan, reader, app
):
    stores.apple_deliver(stores.apple_buy(app_account_token_get(user=reader)))

    data = app.get(ME).json()

    subscription = StoreSubscription.objects.get()
    assert data["subscription"]["store"] == "apple"
    assert data["subscription"]["manage_url"] == "https://apps.apple.com/account/subscriptions"
    assert data["subscription"]["status"] == "active"
    assert data["subscription"]["access_until"] == subscription.access_until.isoformat().replace(
        "+00:00", "Z"
    )
    assert [e["source"] for e in data["entitlements"]] == ["apple"]


def test_me_tells_a_google_subscriber_where_to_manage_the_subscription(
    stores, store_plan, reader, app
):
    stores.google_deliver(stores.google_buy(app_account_token_get(user=reader)))

    data = app.get(ME).json()["subscription"]

    assert data["store"] == "google"
    assert data["manage_url"].startswith("https://play.google.com/")


def test_me_shows_no_store_subscription_once_it_has_expired(stores, store_plan, reader, app):
    bought = stores.apple_buy(app_account_token_get(user=reader))
    stores.apple_deliver(bought)
    stores.apple_deliver(stores.apple_act(bought["original_transaction_id"], "expire"))

    assert app.get(ME).json()["subscription"] is None


def test_web_checkout_refuses_a_store_subscriber_naming_the_store(stores, store_plan, reader, app):
    PlanPrices.objects.create(
        plan=store_plan, product_id="prod_x", monthly_price_id="price_m",
        yearly_price_id="price_y", status=SyncStatus.SYNCED,
    )  # fmt: skip
    stores.apple_deliver(stores.apple_buy(app_account_token_get(user=reader)))

    response = app.post(CHECKOUT, {"plan": "digital", "interval": "month"}, format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "already_subscribed"
    assert "Apple App Store" in error["message"]
    assert "apps.apple.com" in error["message"]


def test_a_store_purchase_on_top_of_a_web_subscription_is_flagged_and_the_reader_told(
    stores, store_plan, reader, app
):
    entitlement_grant(
        user=reader,
        source=EntitlementSource.SUBSCRIPTION,
        ends_at=timezone.now() + timedelta(days=20),
        reference="sub_web",
    )
    bought = stores.apple_buy(app_account_token_get(user=reader))

    response = app.post(
        "/api/v1/appstores/apple/transactions/",
        {"signed_transaction": bought["signed_transaction"]},
        format="json",
    )
    stores.apple_deliver(bought)
    stores.apple_deliver(stores.apple_act(bought["original_transaction_id"], "renew"))

    assert response.status_code == 200
    assert response.json()["double_payment"] is True
    subscription = StoreSubscription.objects.get()
    assert subscription.double_payment_at is not None
    assert subscription.events.filter(kind=StoreSubscriptionEvent.Kind.DOUBLE_PAYMENT).count() == 1
    email = OutboxMessage.objects.get(kind="store_double_payment")
    assert email.to == reader.email
    assert "paying for your membership twice" in email.subject
    assert "Apple App Store" in email.body


def test_admin_lists_double_payments_for_support(stores, store_plan, reader, client):
    entitlement_grant(
        user=reader,
        source=EntitlementSource.SUBSCRIPTION,
        ends_at=timezone.now() + timedelta(days=20),
        reference="sub_web",
    )
    stores.google_deliver(stores.google_buy(app_account_token_get(user=reader)))
    client.force_login(StaffFactory(is_superuser=True))

    page = client.get("/admin/appstores/storesubscription/?double_payment=yes")

    assert page.status_code == 200
    assert reader.email in page.content.decode()
    assert client.get("/admin/appstores/storeproduct/").status_code == 200
    assert client.get("/admin/appstores/storenotification/").status_code == 200


def test_reconciliation_applies_a_change_whose_notification_was_lost(stores, store_plan, reader):
    bought = stores.apple_buy(app_account_token_get(user=reader))
    stores.apple_deliver(bought)
    google = stores.google_buy(app_account_token_get(user=reader))
    stores.google_deliver(google)
    stores.apple_act(bought["original_transaction_id"], "refund")  # never delivered
    stores.google_act(google["purchase_token"], "expire")  # never delivered
    assert Entitlement.objects.live().filter(user=reader).count() == 2

    changed = appstores_reconcile()

    assert changed == 2
    assert not Entitlement.objects.live().filter(user=reader).exists()


def test_the_support_desk_sees_the_store_source(stores, store_plan, reader):
    TitleFactory(slug="courier")
    stores.apple_deliver(stores.apple_buy(app_account_token_get(user=reader)))
    staff = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(StaffFactory()))

    data = staff.get("/api/v1/support/access/", {"reader": reader.email, "title": "courier"}).json()

    assert data["decision"] == {"granted": True, "reason": "apple"}
    assert [e["source"] for e in data["entitlements"]] == ["apple"]


def test_the_account_page_tells_a_store_subscriber_where_to_manage_it(stores, store_plan, reader):
    stores.google_deliver(stores.google_buy(app_account_token_get(user=reader)))
    web = APIClient()
    web.force_login(reader)

    page = web.get("/account/").content.decode()

    assert "through Google Play" in page
    assert 'href="https://play.google.com/store/account/subscriptions"' in page


def test_beat_redrives_store_notifications_every_minute_and_reconciles_nightly():
    from django_celery_beat.models import PeriodicTask

    from config.celery import app as celery_app

    redrive = PeriodicTask.objects.get(task="appstores.tasks.store_notifications_redrive")
    nightly = PeriodicTask.objects.get(task="appstores.tasks.appstores_reconcile")

    assert (redrive.interval.every, redrive.interval.period) == (1, "minutes")
    assert (nightly.crontab.hour, nightly.crontab.minute) == ("3", "45")
    assert {redrive.task, nightly.task} <= set(celery_app.tasks)
