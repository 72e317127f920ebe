"""The sandbox delivers by itself, as Apple and Google do: a sandbox process whose
notification addresses are Masthead's live server, driven by its command-line tool, changes
the reader's access through the real doors."""

import subprocess
import sys
from pathlib import Path

import pytest

from appstore_sandbox.testing import running_appstore_sandbox
from appstores.models import StoreNotification, StoreProduct, StoreSubscription
from membership.models import Entitlement
from membership.services.app_accounts import app_account_token_get
from tests.factories import PlanFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "appstore_sandbox.cli", "--url", url, *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


@pytest.mark.django_db(transaction=True)
def test_the_cli_sends_notifications_that_change_access(live_server, settings):
    apple_url = live_server.url + "/appstores/apple/notifications/"
    push_url = live_server.url + "/appstores/google/rtdn/"
    args = ["--apple-notify-url", apple_url, "--google-push-url", push_url]
    plan = PlanFactory(slug="digital")
    for store in ("apple", "google"):
        StoreProduct.objects.create(store=store, product_id="masthead.digital.monthly", plan=plan)
    reader = UserFactory()
    token = str(app_account_token_get(user=reader))
    with running_appstore_sandbox(args=args) as sandbox:
        settings.APPLE_ROOT_CERTIFICATES = [str(sandbox.apple_root)]
        settings.APPLE_API_BASE = settings.GOOGLE_PLAY_API_BASE = sandbox.url
        settings.GOOGLE_PUSH_CERTS_URL = sandbox.url + "/_sandbox/google/certs"
        settings.GOOGLE_PUSH_AUDIENCE = push_url

        bought = _cli(
            sandbox.url, "apple", "subscribe", "masthead.digital.monthly", "--token", token
        )
        assert '"delivery": 200' in bought
        assert Entitlement.objects.live().filter(user=reader, source="apple").exists()

        subscription = StoreSubscription.objects.get(store="apple")
        assert '"delivery": 200' in _cli(sandbox.url, "apple", "refund", subscription.external_id)
        assert not Entitlement.objects.live().filter(user=reader, source="apple").exists()

        purchased = _cli(
            sandbox.url, "google", "purchase", "masthead.digital.monthly", "--token", token
        )
        assert '"delivery": 200' in purchased
        assert Entitlement.objects.live().filter(user=reader, source="google").exists()
        deliveries = sandbox.get("/_sandbox/deliveries")["data"]

    assert [d["status"] for d in deliveries] == [200, 200, 200]
    assert StoreNotification.objects.filter(status="succeeded").count() == 3
