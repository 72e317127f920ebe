"""Demo data of the app stores: the store products of the demo plans, and two readers who
subscribed in the app, one on an iPhone (Apple) and one on Android (Google Play).

Their purchases are made in the running app-store sandbox and linked through the same
services the app's API calls (Apple's verifier, the stores' APIs), so the sandbox's CLI can
then renew, fail, expire or refund them and a person can watch access change."""

import json
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from appstores.errors import StoreError
from appstores.models import Store, StoreProduct, StoreSubscription
from appstores.services import apple_transaction_link, google_purchase_link
from membership.management.commands.seed_demo import READER_PASSWORD, user_seed
from membership.models import Plan
from membership.services.app_accounts import app_account_token_get

APPLE_READER = "reader.apple@masthead.localhost"
GOOGLE_READER = "reader.google@masthead.localhost"
PRODUCTS = {
    "masthead.complete.monthly": "complete",
    "masthead.complete.yearly": "complete",
    "masthead.essentials.monthly": "essentials",
    "masthead.essentials.yearly": "essentials",
}


def _sandbox(path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the configured local sandbox
        settings.APPSTORE_SANDBOX_URL + path,
        data=data,
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


class Command(BaseCommand):
    help = (
        "Map the demo plans to store product ids and give the demo an Apple and a Google "
        "subscriber (bought in the app-store sandbox). Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wait-for-sandbox", type=float, default=0, help="Seconds to wait for the sandbox."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for product_id, slug in PRODUCTS.items():
            plan = Plan.objects.filter(slug=slug).first()
            for store in (Store.APPLE, Store.GOOGLE):
                if plan is not None:
                    StoreProduct.objects.get_or_create(
                        store=store, product_id=product_id, defaults={"plan": plan}
                    )
        if not settings.APPSTORE_SANDBOX_URL or not self._wait(options["wait_for_sandbox"]):
            self.stdout.write("App-store sandbox not reachable: no store subscribers seeded.")
            return
        try:
            self._subscribers()
        except (StoreError, OSError) as exc:
            self.stderr.write(f"Store subscribers not seeded: {exc}")

    def _wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            try:
                _sandbox("/_sandbox/health")
                return True
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.5)

    def _subscribers(self) -> None:
        apple = user_seed(
            email=APPLE_READER, password=READER_PASSWORD, name="Ava Apple", staff=False
        )
        google = user_seed(
            email=GOOGLE_READER, password=READER_PASSWORD, name="Gus Google", staff=False
        )
        product = "masthead.complete.monthly"
        subscription = StoreSubscription.objects.filter(user=apple, store=Store.APPLE).first()
        if subscription is None:
            token = str(app_account_token_get(user=apple))
            bought = _sandbox(
                "/_sandbox/apple/subscriptions",
                {"product_id": product, "app_account_token": token, "deliver": False},
            )
            subscription = apple_transaction_link(
                reader=apple, signed_transaction=bought["signed_transaction"]
            )
        self.stdout.write(
            f"  reader   {APPLE_READER} / {READER_PASSWORD}  (Apple subscriber; "
            f"python -m appstore_sandbox.cli apple renew|fail|grace|expire|refund "
            f"{subscription.external_id})"
        )
        subscription = StoreSubscription.objects.filter(user=google, store=Store.GOOGLE).first()
        if subscription is None:
            token = str(app_account_token_get(user=google))
            bought = _sandbox(
                "/_sandbox/google/purchases",
                {"product_id": product, "account_id": token, "deliver": False},
            )
            subscription = google_purchase_link(
                reader=google, purchase_token=bought["purchase_token"], product_id=product
            )
        self.stdout.write(
            f"  reader   {GOOGLE_READER} / {READER_PASSWORD}  (Google Play subscriber; "
            f"python -m appstore_sandbox.cli google renew|fail|grace|expire|refund "
            f"{subscription.external_id})"
        )
