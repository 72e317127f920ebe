"""The app links a store purchase to the signed-in reader: access at once; another reader's
purchase, a forged or foreign transaction, or bad input are refused."""

import pytest
from rest_framework.test import APIClient

from appstores.models import StoreSubscription
from membership.access import AccessReason, article_access
from membership.models import Entitlement
from membership.services.app_accounts import app_account_token_get
from tests.api.conftest import session_token_for
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

APPLE = "/api/v1/appstores/apple/transactions/"
GOOGLE = "/api/v1/appstores/google/purchases/"


@pytest.fixture
def reader():
    return UserFactory()


@pytest.fixture
def app(reader):
    """The app, signed in as the reader by session token."""
    return APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))


def _granted(reader):
    return article_access(reader=reader, article=ArticleFactory())


# Apple ------------------------------------------------------------------------------------
def test_linking_an_apple_purchase_gives_access_at_once(stores, store_plan, reader, app):
    bought = stores.apple_buy(app_account_token_get(user=reader))

    response = app.post(APPLE, {"signed_transaction": bought["signed_transaction"]}, format="json")

    assert response.status_code == 200
    assert response.json()["store"] == "apple"
    assert response.json()["status"] == "active"
    assert response.json()["plan"] == {"slug": "digital", "name": "Digital"}
    assert response.json()["double_payment"] is False
    assert "no-store" in response["Cache-Control"]
    assert _granted(reader).reason == AccessReason.APPLE


def test_linking_a_purchase_made_without_a_token_links_it_to_the_reader(
    stores, store_plan, reader, app
):
    bought = stores.apple_buy(None)
    stores.apple_deliver(bought)  # the notification came first: nobody to give access to

    response = app.post(APPLE, {"signed_transaction": bought["signed_transaction"]}, format="json")

    assert response.status_code == 200
    assert StoreSubscription.objects.get().user == reader
    assert _granted(reader).granted


def test_a_transaction_with_another_readers_token_is_refused(stores, store_plan, reader, app):
    other = UserFactory()
    bought = stores.apple_buy(app_account_token_get(user=other))

    response = app.post(APPLE, {"signed_transaction": bought["signed_transaction"]}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "purchase_of_another_reader"
    assert not Entitlement.objects.filter(user=reader).exists()


def test_a_purchase_linked_by_another_reader_is_refused(stores, store_plan, reader, app):
    bought = stores.apple_buy(None)
    other_app = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(UserFactory()))
    body = {"signed_transaction": bought["signed_transaction"]}
    assert other_app.post(APPLE, body, format="json").status_code == 200

    response = app.post(APPLE, body, format="json")

    assert response.status_code == 409
    assert not Entitlement.objects.filter(user=reader).exists()


def test_a_transaction_of_the_production_environment_is_refused(stores, store_plan, reader, app):
    bought = stores.apple_buy(app_account_token_get(user=reader), environment="Production")

    response = app.post(APPLE, {"signed_transaction": bought["signed_transaction"]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_environment"
    assert not StoreSubscription.objects.exists()


def test_linking_needs_a_signed_in_reader(stores, store_plan):
    bought = stores.apple_buy(None)

    response = APIClient().post(
        APPLE, {"signed_transaction": bought["signed_transaction"]}, format="json"
    )

    assert response.status_code in (401, 403)
    assert not StoreSubscription.objects.exists()


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, "invalid"),
        ({"signed_transaction": ""}, "invalid"),
        ({"signed_transaction": ["a"]}, "invalid"),
        ({"signed_transaction": "not.a.jws"}, "bad_signature"),
    ],
)
def test_bad_input_is_refused_with_a_400(stores, app, body, code):
    response = app.post(APPLE, body, format="json")

    assert response.status_code == 400
    if code != "invalid":
        assert response.json()["error"]["code"] == code
    assert not StoreSubscription.objects.exists()


# Google -----------------------------------------------------------------------------------
def test_linking_a_google_purchase_gives_access_at_once_and_acknowledges_it(
    stores, store_plan, reader, app
):
    bought = stores.google_buy(app_account_token_get(user=reader))
    body = {"purchase_token": bought["purchase_token"], "product_id": "masthead.digital.monthly"}

    response = app.post(GOOGLE, body, format="json")

    assert response.status_code == 200
    assert response.json()["store"] == "google"
    assert _granted(reader).reason == AccessReason.GOOGLE
    assert stores.google_purchase(bought["purchase_token"])["acknowledged"] is True


def test_a_google_purchase_of_another_reader_is_refused(stores, store_plan, reader, app):
    bought = stores.google_buy(app_account_token_get(user=UserFactory()))
    body = {"purchase_token": bought["purchase_token"], "product_id": "masthead.digital.monthly"}

    response = app.post(GOOGLE, body, format="json")

    assert response.status_code == 403
    assert not Entitlement.objects.filter(user=reader).exists()
    assert stores.google_purchase(bought["purchase_token"])["acknowledged"] is False


@pytest.mark.parametrize(
    "body, code",
    [
        ({"product_id": "masthead.digital.monthly"}, None),
        ({"purchase_token": "a b", "product_id": "masthead.digital.monthly"}, None),
        ({"purchase_token": "abc", "product_id": "Bad Product"}, None),
        (
            {"purchase_token": "unknown-token", "product_id": "masthead.digital.monthly"},
            "unknown_purchase",
        ),
    ],
)
def test_bad_google_input_is_refused_with_a_400(stores, app, body, code):
    response = app.post(GOOGLE, body, format="json")

    assert response.status_code == 400
    if code:
        assert response.json()["error"]["code"] == code
    assert not StoreSubscription.objects.exists()


def test_a_google_purchase_of_another_product_is_refused(stores, store_plan, reader, app):
    bought = stores.google_buy(app_account_token_get(user=reader))
    body = {"purchase_token": bought["purchase_token"], "product_id": "masthead.digital.yearly"}

    response = app.post(GOOGLE, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "product_mismatch"


def test_linking_a_google_purchase_needs_a_signed_in_reader(stores, store_plan):
    bought = stores.google_buy("")
    body = {"purchase_token": bought["purchase_token"], "product_id": "masthead.digital.monthly"}

    assert APIClient().post(GOOGLE, body, format="json").status_code in (401, 403)
