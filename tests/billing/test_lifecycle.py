"""A reader's whole subscription on a Stripe test clock, through the real pipeline.

The sandbox runs as a process, moves its clock, and delivers signed webhooks to Masthead's
endpoint on the live server; Masthead stores each event, applies it, re-fetches the
subscription and moves the reader's entitlement. As with real Stripe, a test clock moves
Stripe's time only (webhook signatures carry the real time), so the paywall is asked about
the clock's moments with ``article_access(at=...)``.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from accounts.models import User
from billing import stripe_gateway
from billing.models import Customer, PlanPrices, Subscription, SubscriptionStatus, WebhookEvent
from membership.access import AccessReason, article_access
from membership.models import Article
from membership.services import trial_claim
from tests.factories import ArticleFactory, PlanFactory, UserFactory
from tests.stripe_sandbox.conftest import advance, http_request

pytestmark = pytest.mark.django_db(transaction=True)

DAY = 86400
SITE = "http://masthead.example"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll until ``check()`` is truthy (webhooks arrive asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    pending = list(WebhookEvent.objects.values_list("type", "status", "last_error"))
    raise AssertionError(f"timed out waiting for {what}; events: {pending}")


def events_settled() -> bool:
    """Every stored event is applied or ignored: none waits, is being applied, or failed.
    (The sandbox may deliver one more event a moment later; it is polled for, not raced.)"""
    return not WebhookEvent.objects.exclude(status__in=["succeeded", "ignored"]).exists()


def reason(reader: User, article: Article, at: datetime) -> str:
    reader.refresh_from_db()
    return article_access(reader=reader, article=article, at=at).reason


def moment(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, tz=UTC)


class Lifecycle:
    """The objects of one reader's story, at Stripe and at Masthead."""

    def __init__(self, sandbox: Any) -> None:
        self.stripe = sandbox.client()
        self.reader = UserFactory(email="lifecycle.reader@example.com")
        lapsed = datetime.now(UTC) - timedelta(days=20)  # a reader whose free trial lapsed
        trial_claim(
            user=self.reader, kind="cardless", starts_at=lapsed, ends_at=lapsed + timedelta(14)
        )
        self.article = ArticleFactory()
        plan = PlanFactory(monthly_amount=999, yearly_amount=9999)
        product = self.stripe.v1.products.create(params={"name": plan.name})
        price = self.stripe.v1.prices.create(
            params={
                "product": product.id,
                "unit_amount": 999,
                "currency": "gbp",
                "recurring": {"interval": "month"},
                "metadata": {"plan_id": str(plan.pk), "interval": "month"},
            }
        )
        PlanPrices.objects.create(
            plan=plan, product_id=product.id, monthly_price_id=price.id, status="synced"
        )
        self.price_id = price.id
        self.start = int(time.time()) // 60 * 60
        self.clock = self.stripe.v1.test_helpers.test_clocks.create(
            params={"frozen_time": self.start, "name": "lifecycle"}
        )
        customer = self.stripe.v1.customers.create(
            params={"email": self.reader.email, "test_clock": self.clock.id}
        )
        Customer.objects.create(user=self.reader, stripe_id=customer.id)
        self.customer_id = customer.id

    def subscription(self) -> Subscription | None:
        return Subscription.objects.filter(user=self.reader).first()

    def portal_form(self, form: dict[str, str]) -> None:
        portal = stripe_gateway.portal_session_create(
            customer_id=self.customer_id, return_url=f"{SITE}/account/"
        )
        status, _, body = http_request(portal.url, "POST", form=form)
        assert status in {200, 303}, body


def test_checkout_renewal_failure_grace_card_fix_and_cancel_at_period_end(
    sandbox_webhooks: Any,
) -> None:
    story = Lifecycle(sandbox_webhooks)
    reader, article = story.reader, story.article
    grace = timedelta(days=settings.BILLING_GRACE_DAYS)

    def move_to(unix: int) -> datetime:
        advance(story.stripe, story.clock.id, unix)
        return moment(unix)

    # Checkout with 4242 on the hosted page; the webhook makes the reader a subscriber.
    session = stripe_gateway.checkout_session_create(
        user_id=reader.pk,
        customer_id=story.customer_id,
        price_id=story.price_id,
        success_url=f"{SITE}/billing/success/?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{SITE}/pricing/",
        trial_end=None,
    )
    status, headers, _ = http_request(session.url, "POST", form={"card_number": "4242424242424242"})
    assert status == 303 and headers["location"].startswith(f"{SITE}/billing/success/")
    subscription = wait_for(
        lambda: (s := story.subscription()) and s.status == "active" and s, "active"
    )
    assert reason(reader, article, datetime.now(UTC)) == AccessReason.SUBSCRIPTION
    first_period_end = int(subscription.current_period_end.timestamp())

    # A renewal: paid, and access moves on to the next period's end.
    now = move_to(first_period_end + 60)
    renewed = wait_for(
        lambda: (s := story.subscription()).current_period_end.timestamp() > first_period_end and s,
        "the renewal",
    )
    assert renewed.status == SubscriptionStatus.ACTIVE
    assert reason(reader, article, now) == AccessReason.SUBSCRIPTION
    second_period_end = int(renewed.current_period_end.timestamp())

    # The card becomes one that always fails; the next renewal fails: past due.
    story.portal_form({"action": "update_card", "card_number": "4000000000000341"})
    wait_for(events_settled, "the card change")
    move_to(second_period_end + 60)
    past_due = wait_for(lambda: (s := story.subscription()).status == "past_due" and s, "past due")
    failed_at = past_due.payment_failed_at
    assert failed_at == moment(second_period_end)
    assert past_due.open_invoice_id

    # Within the grace period the reader still reads; after it, the paywall asks for a card.
    after_grace = failed_at + grace
    assert reason(reader, article, after_grace - timedelta(seconds=1)) == "subscription"
    assert reason(reader, article, after_grace) == AccessReason.PAYMENT_FAILED

    # The reader replaces the card in the portal: Masthead pays the open invoice at once.
    story.portal_form({"action": "update_card", "card_number": "4242424242424242"})
    paid = wait_for(lambda: (s := story.subscription()).status == "active" and s, "paid again")
    assert paid.payment_failed_at is None and paid.open_invoice_id == ""
    assert reason(reader, article, after_grace) == AccessReason.SUBSCRIPTION

    # Cancel at period end in the portal: reads to the end, then the paywall.
    story.portal_form({"action": "cancel", "subscription": paid.stripe_id})
    ending = wait_for(
        lambda: (s := story.subscription()).cancel_at is not None and s, "cancel_at set"
    )
    period_end = ending.current_period_end
    assert ending.cancel_at == period_end, "the portal sets cancel_at to the period end"
    assert ending.is_ending
    assert reason(reader, article, period_end - timedelta(seconds=1)) == "subscription"
    assert reason(reader, article, period_end) == AccessReason.SUBSCRIBE

    move_to(int(period_end.timestamp()) + 60)
    wait_for(lambda: story.subscription().status == "canceled", "canceled")
    wait_for(events_settled, "every event applied or ignored, none failed")
    assert reason(reader, article, period_end) == AccessReason.SUBSCRIBE
