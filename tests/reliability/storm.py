"""The webhook storm: many readers' subscription lifecycles at the offline Stripe, their
events posted duplicated and shuffled by concurrent senders to Masthead's webhook, applied
by real workers; then the same events applied once, in order, to compare.

Used by ``test_webhook_storm.py`` (2k events) and ``bench/webhook_storm.py`` (10k).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.hashers import make_password

from accounts.models import User
from billing import stripe_gateway
from billing.events import webhook_event_process, webhook_event_store
from billing.models import Customer, PlanPrices, Subscription, WebhookEvent
from billing.stripe_gateway import StripeEvent
from membership.models import Entitlement, EntitlementSource, OutboxMessage, OutboxStatus, Plan
from tests.billing.conftest import WEBHOOK_URL, stripe_signature
from tests.factories import PlanFactory, TitleFactory

MONTH = 31 * 86400
# What happens to each reader, by position: every story ends in a different state.
STORIES = ("renewed", "cancelled", "ending", "switched", "failing", "updated")
TIMED_STORIES = {"renewed", "ending", "failing"}
CLOCK_READERS = 10  # groups of STORIES per test clock: 30 readers on each clock


@dataclass
class World:
    """The readers and their subscriptions at the sandbox, and the events it recorded."""

    stripe: Any
    api_url: str
    api_key: str
    readers: list[tuple[User, str, str]] = field(default_factory=list)  # reader, sub, story
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    build_seconds: float = 0.0


def _price(stripe: Any, plan: Plan) -> str:
    product = stripe.v1.products.create(params={"name": plan.name})
    price = stripe.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": plan.monthly_amount,
            "currency": "gbp",
            "recurring": {"interval": "month"},
            "metadata": {"plan_id": str(plan.pk), "interval": "month"},
        }
    )
    PlanPrices.objects.create(
        plan=plan, product_id=product.id, monthly_price_id=price.id, status="synced"
    )
    return str(price.id)


def _clock_wait(stripe: Any, clock_id: str, timeout: float = 900) -> None:
    """Wait until the clock is ready; the sandbox answers nothing else while it advances one."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if stripe.v1.test_helpers.test_clocks.retrieve(clock_id).status == "ready":
                return
        except Exception:  # a read timeout while a big advance holds the sandbox: ask again
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"test clock {clock_id} still advancing after {timeout}s")
        time.sleep(0.2)


def world_build(stripe: Any, *, api_url: str, api_key: str, readers: int) -> World:
    """Give ``readers`` readers a subscription on one test clock and play their stories:
    created; cancelled now, set to end at the period's end, switched plan, card replaced by
    one that fails; a month and a day later on the clock (renewals paid, failed or ending),
    metadata updated. Then pull every event the sandbox recorded, oldest first."""
    started = time.monotonic()
    world = World(stripe=stripe, api_url=api_url, api_key=api_key)
    news, business = TitleFactory(), TitleFactory()
    TitleFactory()  # a premium title only Complete covers
    essentials_plan = PlanFactory(all_titles=False, monthly_amount=699, name="Essentials")
    essentials_plan.titles.set([news, business])
    essentials = _price(stripe, essentials_plan)
    complete = _price(stripe, PlanFactory(monthly_amount=1299, name="Complete"))
    start = int(time.time()) // 60 * 60
    clocks: list[str] = []
    people = User.objects.bulk_create(  # unusable passwords: argon2 costs ~90 ms a hash
        User(email=f"storm.reader{i}@example.com", password=make_password(None))
        for i in range(readers)
    )
    for i, reader in enumerate(people):
        story = STORIES[i % len(STORIES)]
        # Only the stories that need a month to pass live on test clocks, a few dozen a clock
        # so that each advance is short.
        on_clock = {}
        if story in TIMED_STORIES:
            if i % (len(STORIES) * CLOCK_READERS) == 0 or not clocks:
                clock = stripe.v1.test_helpers.test_clocks.create(
                    params={"frozen_time": start, "name": f"storm {len(clocks)}"}
                )
                clocks.append(str(clock.id))
            on_clock = {"test_clock": clocks[-1]}
        customer = stripe.v1.customers.create(params={"email": reader.email, **on_clock})
        Customer.objects.create(user=reader, stripe_id=customer.id)
        price = essentials if i % 3 == 0 else complete
        sub = stripe.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price}],
                "default_payment_method": "pm_card_visa",
                "metadata": {"user_id": str(reader.pk)},
            }
        )
        world.readers.append((reader, str(sub.id), story))
    for _, sub_id, story in world.readers:
        if story == "cancelled":
            stripe.v1.subscriptions.cancel(sub_id)
        elif story == "ending":
            stripe.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
        elif story == "switched":
            item = stripe.v1.subscriptions.retrieve(sub_id)["items"].data[0]
            other = complete if item.price.id == essentials else essentials
            stripe.v1.subscriptions.update(
                sub_id,
                params={
                    "items": [{"id": item.id, "price": other}],
                    "proration_behavior": "none",
                },
            )
        elif story == "failing":
            stripe.v1.subscriptions.update(
                sub_id, params={"default_payment_method": "pm_card_chargeCustomerFail"}
            )
    for clock_id in clocks:
        stripe.v1.test_helpers.test_clocks.advance(
            clock_id, params={"frozen_time": start + MONTH + 86400}
        )
        _clock_wait(stripe, clock_id)
    for _, sub_id, story in world.readers:
        if story == "updated":
            stripe.v1.subscriptions.update(sub_id, params={"metadata": {"note": "storm"}})
    world.events = events_pull(api_url=api_url, api_key=api_key)
    world.build_seconds = time.monotonic() - started
    return world


def events_pull(*, api_url: str, api_key: str) -> list[dict[str, Any]]:
    """Every event the sandbox holds, as raw JSON, oldest first (its own order)."""
    newest_first: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = "limit=100" + (f"&starting_after={cursor}" if cursor else "")
        request = urllib.request.Request(
            f"{api_url}/v1/events?{query}", headers={"Authorization": f"Bearer {api_key}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.loads(response.read())
        newest_first.extend(page["data"])
        if not page["has_more"] or not page["data"]:
            return list(reversed(newest_first))
        cursor = page["data"][-1]["id"]


@dataclass
class Delivery:
    """What the senders did: posts, answers, retries, and how long it took."""

    posts: int = 0
    duplicates: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    duplicate_answers: int = 0  # answered {"duplicate": true}
    retries: int = 0
    seconds: float = 0.0


def deliveries_plan(
    events: list[dict[str, Any]], *, duplicate_share: float, seed: int
) -> list[dict[str, Any]]:
    """The events plus a share of them again, shuffled."""
    chance = random.Random(seed)
    again = chance.sample(events, round(len(events) * duplicate_share))
    planned = [*events, *again]
    chance.shuffle(planned)
    return planned


def storm_send(
    server_url: str, planned: list[dict[str, Any]], *, senders: int, secret: str
) -> Delivery:
    """Post every planned event, signed, from ``senders`` threads at once; retry refused
    connections and 5xx answers as Stripe would (quickly here)."""
    delivery = Delivery(
        posts=len(planned), duplicates=len(planned) - len({e["id"] for e in planned})
    )
    lock = threading.Lock()
    parts = urlsplit(server_url)
    errors: list[str] = []

    def post(event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        for attempt in range(6):
            headers = {
                "Content-Type": "application/json",
                "Stripe-Signature": stripe_signature(body, secret=secret),
            }
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                conn.request("POST", WEBHOOK_URL, body=body, headers=headers)
                response = conn.getresponse()
                status, answer = response.status, response.read()
                conn.close()
            except OSError as exc:
                status, answer = 0, str(exc).encode()
            if 200 <= status < 500:  # 4xx is a verdict, not a fault: no retry
                with lock:
                    delivery.answers[status] += 1
                    delivery.retries += attempt
                    if status == 200 and json.loads(answer).get("duplicate"):
                        delivery.duplicate_answers += 1
                return
            time.sleep(0.2 * (attempt + 1))
        with lock:
            errors.append(f"{event['id']}: {status} {answer[:200]!r}")

    def sender(share: list[dict[str, Any]]) -> None:
        for event in share:
            post(event)

    started = time.monotonic()
    threads = [
        threading.Thread(target=sender, args=(planned[n::senders],), daemon=True)
        for n in range(senders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    delivery.seconds = time.monotonic() - started
    if errors:
        raise AssertionError(f"{len(errors)} events never accepted: {errors[:5]}")
    return delivery


def storm_settled(expected_events: int) -> bool:
    """Every event is stored and none is waiting, being applied or failed (and retrying), and
    every email they recorded has been sent."""
    if WebhookEvent.objects.count() < expected_events:
        return False
    if WebhookEvent.objects.exclude(status__in=["succeeded", "ignored"]).exists():
        return False
    return not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()


def mirror_state() -> dict[str, Any]:
    """Masthead's subscriptions, subscription entitlements and readers' payment flags, free
    of row ids and of the moments rows were written."""
    subscriptions = {}
    for sub in Subscription.objects.select_related("user", "plan"):
        subscriptions[sub.stripe_id] = {
            "user": sub.user.email if sub.user else None,
            "customer": sub.customer_stripe_id,
            "plan": sub.plan.name if sub.plan else None,
            "price": sub.price_id,
            "interval": sub.interval,
            "status": sub.status,
            "current_period_end": sub.current_period_end,
            "trial_end": sub.trial_end,
            "cancel_at": sub.cancel_at,
            "cancel_at_period_end": sub.cancel_at_period_end,
            "ended_at": sub.ended_at,
            "payment_failed_at": sub.payment_failed_at,
            "open_invoice_id": sub.open_invoice_id,
            "entitlement": sub.entitlement.reference if sub.entitlement else None,
        }
    entitlements = sorted(
        (
            e.user.email,
            e.reference,
            e.all_titles,
            tuple(sorted(t.slug for t in e.titles.all())),
            e.ends_at,
            e.revoked_at is not None,
            tuple(e.events.order_by("pk").values_list("kind", flat=True)),
        )
        for e in Entitlement.objects.filter(source=EntitlementSource.SUBSCRIPTION)
        .select_related("user")
        .prefetch_related("titles")
    )
    readers = sorted(
        User.objects.filter(stripe_customer__isnull=False).values_list(
            "email", "payment_issue_since"
        )
    )
    return {"subscriptions": subscriptions, "entitlements": entitlements, "readers": readers}


def mirror_reset() -> None:
    """Forget what the events did (subscriptions, their entitlements, stored events, the
    emails they recorded)."""
    OutboxMessage.objects.all().delete()
    Subscription.objects.all().delete()
    Entitlement.objects.filter(source=EntitlementSource.SUBSCRIPTION).delete()
    WebhookEvent.objects.all().delete()
    User.objects.update(payment_issue_since=None)


def ordered_replay(events: list[dict[str, Any]]) -> float:
    """Store and apply each event once, in the sandbox's order, in this process."""
    started = time.monotonic()
    for event in events:
        stored, created = webhook_event_store(event=StripeEvent.from_api(event))
        assert created, event["id"]
        webhook_event_process(event_id=stored.pk)
    return time.monotonic() - started


def stripe_differences(world: World) -> list[str]:
    """Where Masthead's mirror differs from Stripe's subscriptions now."""
    found = []
    mirror = {s.stripe_id: s for s in Subscription.objects.all()}
    for _, sub_id, story in world.readers:
        truth = stripe_gateway.subscription_retrieve(subscription_id=sub_id)
        ours = mirror.get(sub_id)
        if ours is None:
            found.append(f"{sub_id} ({story}): missing")
            continue
        expected = (
            truth.status,
            truth.price.id,
            truth.cancel_at_period_end,
            truth.current_period_end,
        )
        actual = (ours.status, ours.price_id, ours.cancel_at_period_end, ours.current_period_end)
        if expected != actual:
            found.append(f"{sub_id} ({story}): Stripe {expected}, Masthead {actual}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn_running(
    *, database_url: str, env: dict[str, str], log_path: Path, workers: int = 2
) -> Iterator[str]:
    """Serve Masthead with gunicorn (``workers`` sync workers) on this database; yield its URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning",
    ]  # fmt: skip
    full_env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", WEBHOOK_URL)
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"gunicorn did not start:\n{log_path.read_text(errors='replace')}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def email_counts(messages: list[Any]) -> Counter[tuple[str, str]]:
    """(recipient, subject) of each email, counted: Django messages or parsed MIME ones."""
    counted: Counter[tuple[str, str]] = Counter()
    for message in messages:
        if hasattr(message, "subject"):  # django.core.mail.EmailMessage
            counted[(", ".join(message.to), message.subject)] += 1
        else:  # email.message.Message, as the file backend wrote it
            counted[(str(message["To"]), str(message["Subject"]))] += 1
    return counted
