"""Apple's door refuses what Apple did not sign for this app in Masthead's environment:
400, nothing stored, nothing applied."""

import base64
import json

import pytest

from appstore_sandbox.testing import running_appstore_sandbox
from appstores.models import StoreNotification, StoreSubscription
from membership.models import Entitlement
from membership.services.app_accounts import app_account_token_get
from tests.appstores.conftest import APPLE_URL
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bought(stores, store_plan):
    reader = UserFactory()
    return stores.apple_buy(app_account_token_get(user=reader))


def _nothing_stored():
    return not StoreNotification.objects.exists() and not StoreSubscription.objects.exists()


def _tampered(signed: str) -> str:
    """The same JWS with its payload rewritten (a longer subscription), the signature kept."""
    header, payload, signature = signed.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["notificationType"] = "DID_RENEW"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_tampered_payload_is_refused(stores, bought):
    response = stores.apple_deliver(_tampered(bought["signed_payload"]))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert _nothing_stored()


def test_a_payload_signed_under_another_root_is_refused(stores, store_plan):
    with running_appstore_sandbox() as impostor:
        forged = impostor.post(
            "/_sandbox/apple/subscriptions", {"product_id": "masthead.digital.monthly"}
        )

    response = stores.apple_deliver(forged)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert _nothing_stored()


def test_a_production_notification_is_refused_by_a_sandbox_masthead(stores, bought):
    answer = stores.apple_notify(
        bought["original_transaction_id"], type="DID_RENEW", environment="Production"
    )

    response = stores.apple_deliver(answer)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_environment"
    assert _nothing_stored()


def test_a_sandbox_notification_is_refused_by_a_production_masthead(stores, bought, settings):
    settings.APPLE_ENVIRONMENT = "Production"

    response = stores.apple_deliver(bought)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_environment"
    assert _nothing_stored()


def test_a_notification_of_another_app_is_refused(stores, bought):
    answer = stores.apple_notify(
        bought["original_transaction_id"], type="DID_RENEW", bundle_id="com.other.app"
    )

    response = stores.apple_deliver(answer)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_app"
    assert _nothing_stored()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"signedPayload": 12}',
        b'{"signedPayload": "a.b.c"}',
        b"[" * 100_000,  # nested too deep for the JSON parser
    ],
)
def test_a_malformed_body_is_refused_without_a_500(stores, body):
    response = stores.client.post(APPLE_URL, body, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message"}
    assert _nothing_stored()


def test_the_door_takes_only_post(stores):
    assert stores.client.get(APPLE_URL).status_code == 405


def test_a_replayed_notification_applies_nothing_again(stores, bought):
    stores.apple_deliver(bought)
    stores.apple_deliver(stores.apple_act(bought["original_transaction_id"], "refund"))
    assert not Entitlement.objects.live().exists()

    response = stores.apple_deliver(bought)  # the old SUBSCRIBED, sent again

    assert response.json()["duplicate"] is True
    assert not Entitlement.objects.live().exists()
