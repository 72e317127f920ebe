"""Google Play end to end: the sandbox process pushes real-time developer notifications the
way Pub/Sub does (an OIDC token signed with its RSA key), Masthead verifies it with
google-auth, a worker calls subscriptionsv2.get on the sandbox and applies the state."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from appstores.models import StoreNotification, StoreSubscription, StoreSubscriptionStatus
from membership.access import AccessReason, article_access
from membership.models import Entitlement, EntitlementEvent
from membership.services.app_accounts import app_account_token_get
from tests.appstores.conftest import GOOGLE_URL
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber(stores, store_plan):
    reader = UserFactory()
    bought = stores.google_buy(app_account_token_get(user=reader))
    assert stores.google_deliver(bought).status_code == 200
    return reader, bought["purchase_token"]


def _granted(reader):
    return article_access(reader=reader, article=ArticleFactory()).granted


def _subscription(token):
    return StoreSubscription.objects.get(external_id=token)


def test_a_purchase_gives_access_and_is_acknowledged(stores, subscriber):
    reader, token = subscriber

    subscription = _subscription(token)
    assert subscription.user == reader
    assert subscription.status == StoreSubscriptionStatus.ACTIVE
    assert subscription.access_until > timezone.now() + timedelta(days=29)
    assert subscription.acknowledged_at is not None
    assert stores.google_purchase(token)["acknowledged"] is True
    assert article_access(reader=reader, article=ArticleFactory()).reason == AccessReason.GOOGLE


def test_a_renewal_moves_the_end_of_access(stores, subscriber):
    reader, token = subscriber
    first_end = _subscription(token).access_until

    stores.google_deliver(stores.google_act(token, "renew"))

    assert _subscription(token).access_until == first_end + timedelta(days=30)
    assert Entitlement.objects.get(user=reader).ends_at == first_end + timedelta(days=30)


def test_the_grace_period_keeps_access_until_it_ends(stores, subscriber):
    reader, token = subscriber

    stores.google_deliver(stores.google_act(token, "grace"))

    subscription = _subscription(token)
    assert subscription.status == StoreSubscriptionStatus.GRACE_PERIOD
    assert subscription.access_until > timezone.now() + timedelta(days=15)
    assert _granted(reader)


def test_an_account_on_hold_has_no_access_and_a_recovery_restores_it(stores, subscriber):
    reader, token = subscriber

    stores.google_deliver(stores.google_act(token, "fail"))
    assert _subscription(token).status == StoreSubscriptionStatus.BILLING_RETRY
    assert not _granted(reader)

    stores.google_deliver(stores.google_act(token, "recover"))
    assert _granted(reader)


def test_a_cancelled_subscription_reads_until_its_paid_time_ends(stores, subscriber):
    reader, token = subscriber
    paid_until = _subscription(token).access_until

    stores.google_deliver(stores.google_act(token, "cancel"))

    subscription = _subscription(token)
    assert subscription.status == StoreSubscriptionStatus.CANCELED
    assert subscription.access_until == paid_until
    assert _granted(reader)


@pytest.mark.parametrize("action, status", [("expire", "expired"), ("refund", "revoked")])
def test_expiry_and_refund_end_access_at_once(stores, subscriber, action, status):
    reader, token = subscriber

    stores.google_deliver(stores.google_act(token, action))

    assert _subscription(token).status == status
    assert not _granted(reader)


def test_an_upgrade_follows_the_linked_purchase_token(stores, subscriber):
    reader, old_token = subscriber

    upgraded = stores.google_buy(
        app_account_token_get(user=reader),
        product="masthead.digital.yearly",
        linked_purchase_token=old_token,
    )
    stores.google_deliver(upgraded)

    old, new = _subscription(old_token), _subscription(upgraded["purchase_token"])
    assert old.status == StoreSubscriptionStatus.REPLACED
    assert old.replaced_by == new
    assert new.user == reader
    live = Entitlement.objects.live().filter(user=reader)
    assert [e.reference for e in live] == [new.entitlement_reference]


def test_a_push_delivered_twice_is_stored_and_applied_once(stores, subscriber):
    _reader, token = subscriber
    answer = stores.google_act(token, "renew")

    assert stores.google_deliver(answer).json()["duplicate"] is False
    events = EntitlementEvent.objects.count()
    assert stores.google_deliver(answer).json()["duplicate"] is True

    assert StoreNotification.objects.filter(notification_id=answer["message_id"]).count() == 1
    assert EntitlementEvent.objects.count() == events


def test_shuffled_pushes_end_in_the_newest_state(stores, store_plan):
    reader = UserFactory()
    bought = stores.google_buy(app_account_token_get(user=reader))
    token = bought["purchase_token"]
    renewed = stores.google_act(token, "renew")
    expired = stores.google_act(token, "expire")

    for answer in (renewed, expired, bought):
        assert stores.google_deliver(answer).status_code == 200

    assert _subscription(token).status == StoreSubscriptionStatus.EXPIRED
    assert not _granted(reader)


# Refusals: 400, nothing stored -------------------------------------------------------------
def _nothing_stored():
    return not StoreNotification.objects.exists() and not StoreSubscription.objects.exists()


def test_a_push_without_a_token_is_refused(stores, store_plan):
    response = stores.google_deliver(stores.google_buy(""), authorization="")

    assert response.status_code == 400
    assert _nothing_stored()


def test_a_push_for_another_audience_is_refused(stores, store_plan):
    answer = stores.google_buy("", audience="https://elsewhere.example/push")

    response = stores.google_deliver(answer)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert _nothing_stored()


def test_a_push_with_a_forged_token_is_refused(stores, store_plan):
    answer = stores.google_buy("")
    header, claims, signature = answer["authorization"].removeprefix("Bearer ").split(".")
    forged = f"Bearer {header}.{claims}.{signature[::-1]}"

    response = stores.google_deliver(answer, authorization=forged)

    assert response.status_code == 400
    assert _nothing_stored()


def test_a_push_from_another_service_account_is_refused(stores, store_plan, settings):
    settings.GOOGLE_PUSH_SERVICE_ACCOUNT = "someone-else@example.iam.gserviceaccount.com"

    response = stores.google_deliver(stores.google_buy(""))

    assert response.status_code == 400
    assert _nothing_stored()


def test_a_notification_about_another_app_is_refused(stores, store_plan):
    answer = stores.google_buy("")
    data = json.loads(base64.b64decode(answer["push"]["message"]["data"]))
    data["packageName"] = "com.other.app"
    answer["push"]["message"]["data"] = base64.b64encode(json.dumps(data).encode()).decode()

    response = stores.google_deliver(answer)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_app"
    assert _nothing_stored()


@pytest.mark.parametrize(
    "push", [{}, {"message": {}}, {"message": {"messageId": "1", "data": "%%%"}}, []]
)
def test_a_malformed_push_is_refused_without_a_500(stores, store_plan, push):
    answer = stores.google_buy("")

    response = stores.client.post(
        GOOGLE_URL,
        push,
        content_type="application/json",
        HTTP_AUTHORIZATION=answer["authorization"],
    )

    assert response.status_code == 400
    assert _nothing_stored()
