"""A second subscription that slips past the 409 (two Checkout pages paid at once) is
cancelled and refunded; the reader keeps the first one."""

from typing import Any

import pytest

from billing import stripe_gateway
from billing.models import Subscription
from billing.services import checkout_session_apply, customer_ensure
from billing.stripe_gateway import StripeCheckoutSession
from membership.access import article_access
from tests.billing.paying import checkout_pay, plan_on_sale
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db


def open_checkout(
    reader: Any, price_id: str, customer_id: str, attempt: str
) -> StripeCheckoutSession:
    return stripe_gateway.checkout_session_create(
        user_id=reader.pk,
        customer_id=customer_id,
        price_id=price_id,
        success_url="http://masthead.example/billing/welcome/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://masthead.example/billing/cancelled/",
        trial_end=None,
        attempt=attempt,
    )


def test_the_newer_of_two_paid_subscriptions_is_cancelled_and_refunded(sandbox_api) -> None:  # type: ignore[no-untyped-def]
    stripe = sandbox_api.client()
    plan = plan_on_sale()
    reader = UserFactory()
    customer = customer_ensure(user=reader)
    price_id = plan.stripe_prices.monthly_price_id
    first = open_checkout(reader, price_id, customer.stripe_id, "tab-1")
    second = open_checkout(reader, price_id, customer.stripe_id, "tab-2")
    checkout_pay(first.url)
    checkout_pay(second.url)
    sessions = [stripe_gateway.checkout_session_retrieve(session_id=s.id) for s in (first, second)]

    kept = checkout_session_apply(session=sessions[0])
    dropped = checkout_session_apply(session=sessions[1])
    again = checkout_session_apply(session=sessions[0])  # the success page after the webhook

    assert (kept.status, again.status) == ("active", "active")
    assert Subscription.objects.get(pk=dropped.pk).status == "canceled"
    assert stripe.v1.subscriptions.retrieve(dropped.stripe_id).status == "canceled"
    assert stripe.v1.subscriptions.retrieve(kept.stripe_id).status == "active"
    refunds = stripe.v1.refunds.list(params={"limit": 100}).data
    refunded = {r.payment_intent for r in refunds if r.reason == "duplicate"}
    paid_for_dropped = stripe_gateway.invoice_payment_intent_ids(
        invoice_id=stripe.v1.subscriptions.retrieve(dropped.stripe_id).latest_invoice
    )
    assert paid_for_dropped and refunded >= set(paid_for_dropped)
    reader.refresh_from_db()
    assert article_access(reader=reader, article=ArticleFactory()).reason == "subscription"
