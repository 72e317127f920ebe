"""Store notification storm: Apple and Google subscribers' whole stories (purchase, renewals,
then grace, billing failure, cancellation, expiry or refund) as the stores notify them, a
fifth delivered twice, all shuffled and posted by 4 concurrent senders to Masthead's doors
(gunicorn, 2 workers), applied by 2 Celery worker processes that fetch each subscription's
newest state from the app-store sandbox process. Afterwards each notification is stored and
applied once, and every reader's subscription and access are where their story ended."""

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appstore_sandbox.testing import RunningAppStoreSandbox, running_appstore_sandbox
from appstores.models import StoreNotification, StoreProduct, StoreSubscription
from membership.models import Entitlement
from membership.services.app_accounts import app_account_token_get
from tests.celery_worker import worker_database_url
from tests.factories import PlanFactory, UserFactory
from tests.reliability.storm import gunicorn_running

pytestmark = pytest.mark.django_db(transaction=True)

READERS_PER_STORE = 24
SENDERS = 4
DUPLICATE_SHARE = 0.2
PRODUCT = "masthead.storm.monthly"
PUSH_URL = "http://masthead.storm/appstores/google/rtdn/"
# Each story's last step, and the state and access it leaves.
APPLE_ENDINGS = {
    None: ("active", True),
    "grace": ("grace_period", True),
    "fail": ("billing_retry", False),
    "expire": ("expired", False),
    "refund": ("revoked", False),
}
GOOGLE_ENDINGS = {
    None: ("active", True),
    "grace": ("grace_period", True),
    "cancel": ("canceled", True),
    "fail": ("billing_retry", False),
    "expire": ("expired", False),
    "refund": ("revoked", False),
}


@pytest.fixture
def storm_stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningAppStoreSandbox]:
    """The app-store sandbox, reached by this process, the web server and the workers."""
    with running_appstore_sandbox(args=["--google-push-url", PUSH_URL]) as sandbox:
        for name, value in {
            "APPLE_ROOT_CERTIFICATES": str(sandbox.apple_root),
            "APPLE_ENVIRONMENT": "Sandbox",
            "APPLE_API_BASE": sandbox.url,
            "GOOGLE_PLAY_API_BASE": sandbox.url,
            "GOOGLE_PUSH_CERTS_URL": sandbox.url + "/_sandbox/google/certs",
            "GOOGLE_PUSH_AUDIENCE": PUSH_URL,
        }.items():
            monkeypatch.setenv(name, value)
        yield sandbox


def _stories(sandbox: RunningAppStoreSandbox) -> tuple[list[tuple[str, dict[str, Any]]], dict]:
    """Make every reader's story at the sandbox; return the notifications (store, delivery)
    in story order, and each subscription's expected (status, reads) by store and id."""
    plan = PlanFactory(slug="storm")
    for store in ("apple", "google"):
        StoreProduct.objects.create(store=store, product_id=PRODUCT, plan=plan)
    notes: list[tuple[str, dict[str, Any]]] = []
    expected: dict[tuple[str, str], tuple[str, bool, int]] = {}
    for n in range(READERS_PER_STORE):
        reader = UserFactory()
        token = str(app_account_token_get(user=reader))
        ending = list(APPLE_ENDINGS)[n % len(APPLE_ENDINGS)]
        bought = sandbox.post(
            "/_sandbox/apple/subscriptions",
            {"product_id": PRODUCT, "app_account_token": token, "deliver": False},
        )
        oid = bought["original_transaction_id"]
        steps = [bought] + [
            sandbox.post(f"/_sandbox/apple/subscriptions/{oid}/{action}", {"deliver": False})
            for action in ("renew", "renew", *([ending] if ending else []))
        ]
        notes += [("apple", {"signedPayload": s["signed_payload"]}) for s in steps]
        expected[("apple", oid)] = (*APPLE_ENDINGS[ending], reader.pk)

        reader = UserFactory()
        token = str(app_account_token_get(user=reader))
        ending = list(GOOGLE_ENDINGS)[n % len(GOOGLE_ENDINGS)]
        bought = sandbox.post(
            "/_sandbox/google/purchases",
            {"product_id": PRODUCT, "account_id": token, "deliver": False},
        )
        purchase = bought["purchase_token"]
        steps = [bought] + [
            sandbox.post(f"/_sandbox/google/purchases/{purchase}/{action}", {"deliver": False})
            for action in ("renew", *([ending] if ending else []))
        ]
        notes += [("google", {"push": s["push"], "auth": s["authorization"]}) for s in steps]
        expected[("google", purchase)] = (*GOOGLE_ENDINGS[ending], reader.pk)
    return notes, expected


def _post(server: str, store: str, note: dict[str, Any]) -> tuple[int, bool]:
    if store == "apple":
        path, body, headers = "/appstores/apple/notifications/", note, {}
    else:
        path, body, headers = (
            "/appstores/google/rtdn/",
            note["push"],
            {"Authorization": note["auth"]},
        )
    request = urllib.request.Request(
        server + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, bool(json.loads(response.read()).get("duplicate"))
    except urllib.error.HTTPError as exc:
        return exc.code, False


def _send(server: str, planned: list[tuple[str, dict[str, Any]]]) -> Counter:
    answers: Counter = Counter()
    lock = threading.Lock()
    queue = list(enumerate(planned))

    def sender() -> None:
        while True:
            with lock:
                if not queue:
                    return
                _, (store, note) = queue.pop()
            status, duplicate = _post(server, store, note)
            with lock:
                answers[(status, duplicate)] += 1

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _settled(count: int) -> bool:
    rows = StoreNotification.objects
    return rows.count() == count and not rows.exclude(status__in=["succeeded", "ignored"]).exists()


@pytest.mark.celery_worker(concurrency=2)
def test_a_duplicated_shuffled_concurrent_store_storm_applies_each_story_once(
    storm_stores: RunningAppStoreSandbox, celery_worker_process: Any, tmp_path: Path
) -> None:
    notes, expected = _stories(storm_stores)
    rng = random.Random(20261203)
    planned = notes + rng.sample(notes, int(len(notes) * DUPLICATE_SHARE))
    rng.shuffle(planned)

    with gunicorn_running(
        database_url=worker_database_url(), env={}, log_path=tmp_path / "gunicorn.log"
    ) as server:
        started = time.monotonic()
        answers = _send(server, planned)
        celery_worker_process.wait_for(
            lambda: _settled(len(notes)), what="every notification applied", timeout=300
        )
        seconds = time.monotonic() - started

    assert answers == Counter({(200, False): len(notes), (200, True): len(planned) - len(notes)}), (
        tmp_path / "gunicorn.log"
    ).read_text()[-3000:]
    stored = StoreNotification.objects.all()
    assert Counter(stored.values_list("status", flat=True)) == Counter({"succeeded": len(notes)})
    assert Counter(stored.values_list("attempts", flat=True)) == Counter({1: len(notes)})
    for (store, external_id), (status, reads, reader_id) in expected.items():
        subscription = StoreSubscription.objects.get(store=store, external_id=external_id)
        assert (subscription.status, subscription.user_id) == (status, reader_id), external_id
        live = Entitlement.objects.live().filter(
            user_id=reader_id, reference=subscription.entitlement_reference
        )
        assert live.count() == (1 if reads else 0), (store, status)
        open_windows = Entitlement.objects.filter(
            reference=subscription.entitlement_reference, superseded_at=None
        )
        assert open_windows.count() <= 1
    print(
        "store storm:",
        json.dumps(
            {
                "notifications": len(notes),
                "posts": len(planned),
                "senders": SENDERS,
                "seconds": round(seconds, 2),
            }
        ),
    )
