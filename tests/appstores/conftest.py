"""The app-store sandbox as a real process (one for the session), Masthead's settings aimed
at it, and helpers that deliver its notifications the way Apple and Google do."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from appstore_sandbox.testing import RunningAppStoreSandbox, running_appstore_sandbox
from appstores.models import Store, StoreProduct
from membership.models import Plan
from tests.factories import PlanFactory

PUSH_URL = "http://testserver/appstores/google/rtdn/"
APPLE_URL = "/appstores/apple/notifications/"
GOOGLE_URL = "/appstores/google/rtdn/"
MONTHLY = "masthead.digital.monthly"
YEARLY = "masthead.digital.yearly"


@pytest.fixture(scope="session")
def store_sandbox() -> Iterator[RunningAppStoreSandbox]:
    with running_appstore_sandbox(args=["--google-push-url", PUSH_URL]) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _stores_at_the_sandbox(settings: Any, store_sandbox: RunningAppStoreSandbox) -> None:
    settings.APPLE_ROOT_CERTIFICATES = [str(store_sandbox.apple_root)]
    settings.APPLE_ENVIRONMENT = "Sandbox"
    settings.APPLE_ONLINE_CHECKS = False
    settings.APPLE_BUNDLE_ID = "com.masthead.reader"
    settings.APPLE_API_BASE = store_sandbox.url
    settings.GOOGLE_PLAY_API_BASE = store_sandbox.url
    settings.GOOGLE_PLAY_PACKAGE = "com.masthead.reader"
    settings.GOOGLE_PUSH_CERTS_URL = store_sandbox.url + "/_sandbox/google/certs"
    settings.GOOGLE_PUSH_AUDIENCE = PUSH_URL
    settings.GOOGLE_PUSH_SERVICE_ACCOUNT = "play-rtdn@masthead-sandbox.iam.gserviceaccount.com"


@pytest.fixture
def store_plan(db: Any) -> Plan:
    """A plan sold in both stores, monthly and yearly."""
    plan = PlanFactory(slug="digital", name="Digital")
    for store in (Store.APPLE, Store.GOOGLE):
        for product in (MONTHLY, YEARLY):
            StoreProduct.objects.create(store=store, product_id=product, plan=plan)
    return plan


class Stores:
    """Acts as the reader's phone and as the stores, through the sandbox process; delivers
    the stores' notifications to Masthead through its real doors (Django's test client)."""

    def __init__(self, sandbox: RunningAppStoreSandbox, client: Client) -> None:
        self.sandbox = sandbox
        self.client = client

    # Apple
    def apple_buy(self, token: Any = None, product: str = MONTHLY, **extra: Any) -> dict[str, Any]:
        body = {"product_id": product, "app_account_token": str(token) if token else None}
        return self.sandbox.post(
            "/_sandbox/apple/subscriptions", {**body, "deliver": False, **extra}
        )

    def apple_act(self, original_id: str, action: str, **extra: Any) -> dict[str, Any]:
        path = f"/_sandbox/apple/subscriptions/{original_id}/{action}"
        return self.sandbox.post(path, {"deliver": False, **extra})

    def apple_notify(self, original_id: str, **extra: Any) -> dict[str, Any]:
        path = f"/_sandbox/apple/subscriptions/{original_id}/notify"
        return self.sandbox.post(path, {"deliver": False, **extra})

    def apple_deliver(self, answer: dict[str, Any] | str) -> Any:
        signed = answer if isinstance(answer, str) else answer["signed_payload"]
        return self.client.post(
            APPLE_URL, {"signedPayload": signed}, content_type="application/json"
        )

    # Google
    def google_buy(self, token: Any = "", product: str = MONTHLY, **extra: Any) -> dict[str, Any]:
        body = {"product_id": product, "account_id": str(token) if token else "", "deliver": False}
        return self.sandbox.post("/_sandbox/google/purchases", {**body, **extra})

    def google_act(self, purchase_token: str, action: str, **extra: Any) -> dict[str, Any]:
        path = f"/_sandbox/google/purchases/{purchase_token}/{action}"
        return self.sandbox.post(path, {"deliver": False, **extra})

    def google_deliver(self, answer: dict[str, Any], authorization: str | None = None) -> Any:
        auth = answer["authorization"] if authorization is None else authorization
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        return self.client.post(
            GOOGLE_URL, answer["push"], content_type="application/json", **headers
        )

    def google_purchase(self, purchase_token: str) -> dict[str, Any]:
        return self.sandbox.get(f"/_sandbox/google/purchases/{purchase_token}")


@pytest.fixture
def stores(store_sandbox: RunningAppStoreSandbox, db: Any) -> Stores:
    return Stores(store_sandbox, Client())
