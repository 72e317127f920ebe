"""One-time purchases through Checkout in payment mode, against the sandbox as a real
process delivering signed webhooks: fulfilled once when paid (card now, bank debit later),
however the events arrive, and undone on a refund."""

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from billing import one_time
from billing.models import OneTimePayment, WebhookEvent
from billing.one_time import one_time_checkout_start, payment_kind_register
from tests.billing.paying import checkout_pay
from tests.billing.test_delivery import all_delivered, wait_for
from tests.factories import UserFactory

LIVE_KEY = os.environ.get("STRIPE_SECRET_KEY", "")


@pytest.fixture
def ledger() -> Iterator[dict[str, list[str]]]:
    """A kind of purchase for the tests that records what it was asked to do."""
    done: dict[str, list[str]] = {"fulfilled": [], "refunded": []}
    payment_kind_register(
        "sample",
        fulfil=lambda payment, session: done["fulfilled"].append(session.id),
        refund=lambda payment, charge: done["refunded"].append(charge.id),
    )
    yield done
    one_time.PAYMENT_KINDS.pop("sample", None)


def _price(stripe: Any, amount: int = 1500) -> str:
    product = stripe.v1.products.create(params={"name": "Sample pack"})
    price = stripe.v1.prices.create(
        params={"product": product.id, "unit_amount": amount, "currency": "usd"}
    )
    return str(price.id)


def _start(stripe: Any) -> Any:
    return one_time_checkout_start(
        user=UserFactory(),
        kind="sample",
        line_items=[(_price(stripe), 1)],
        metadata={"ref": "42"},
        success_url="https://masthead.example/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://masthead.example/back",
    )


@pytest.mark.sandbox_args("--chaos", "dup=0.5,shuffle=1")
@pytest.mark.django_db(transaction=True)
def test_a_paid_purchase_is_fulfilled_once_and_undone_by_a_refund(
    sandbox_webhooks: Any, ledger: dict[str, list[str]]
) -> None:
    stripe = sandbox_webhooks.client()
    started = _start(stripe)
    assert started.payment.status == "open" and started.payment.amount == 1500
    checkout_pay(started.url)
    session_id = started.payment.checkout_session_id
    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery")

    payment = OneTimePayment.objects.get(checkout_session_id=session_id)
    assert payment.status == "paid" and payment.payment_intent_id.startswith("pi_")
    assert payment.metadata["ref"] == "42" and payment.metadata["kind"] == "sample"
    assert ledger["fulfilled"] == [session_id]

    stripe.v1.refunds.create(params={"payment_intent": payment.payment_intent_id})
    wait_for(lambda: all_delivered(sandbox_webhooks), "the refund")
    payment.refresh_from_db()
    assert payment.status == "refunded" and payment.amount_refunded == 1500
    assert len(ledger["refunded"]) == 1 and ledger["fulfilled"] == [session_id]
    assert not WebhookEvent.objects.filter(status="failed").exists()


@pytest.mark.sandbox_args("--async-payment-seconds", "0.5")
@pytest.mark.django_db(transaction=True)
def test_a_bank_debit_is_fulfilled_only_when_it_settles(
    sandbox_webhooks: Any, ledger: dict[str, list[str]]
) -> None:
    stripe = sandbox_webhooks.client()
    started = _start(stripe)
    checkout_pay(started.url, card="DE89370400440532013000")
    session_id = started.payment.checkout_session_id
    wait_for(
        lambda: (
            WebhookEvent.objects.filter(type="checkout.session.completed").exists()
            and all_delivered(sandbox_webhooks)
        ),
        "the completed session",
    )
    payment = OneTimePayment.objects.get(checkout_session_id=session_id)
    if payment.status != "paid":  # the debit may already have settled
        assert payment.status == "processing" and ledger["fulfilled"] == []
    wait_for(
        lambda: WebhookEvent.objects.filter(
            type="checkout.session.async_payment_succeeded", status="succeeded"
        ).exists(),
        "the settlement",
    )
    payment.refresh_from_db()
    assert payment.status == "paid" and ledger["fulfilled"] == [session_id]


@pytest.mark.sandbox_args("--async-payment-seconds", "0.3")
@pytest.mark.django_db(transaction=True)
def test_a_failed_bank_debit_is_never_fulfilled(
    sandbox_webhooks: Any, ledger: dict[str, list[str]]
) -> None:
    stripe = sandbox_webhooks.client()
    started = _start(stripe)
    checkout_pay(started.url, card="AT861904300235473202")
    wait_for(
        lambda: (
            WebhookEvent.objects.filter(type="checkout.session.async_payment_failed").exists()
            and all_delivered(sandbox_webhooks)
        ),
        "the failed settlement",
    )
    payment = OneTimePayment.objects.get(pk=started.payment.pk)
    assert payment.status == "failed" and ledger["fulfilled"] == []


def open_payment_session() -> Any:
    """Through the gateway: a product, a one-time price, and a payment-mode session for it
    with Masthead's metadata and a discount typed on the page allowed."""
    from billing import stripe_gateway

    stamp = f"{time.time():.6f}"
    product = stripe_gateway.catalog_product_create(
        ids=f"live-test:{stamp}", name="Masthead test gift", metadata={"kind": "gift"}
    )
    price = stripe_gateway.one_time_price_create(
        ids=f"live-test:{stamp}",
        product_id=product.id,
        amount=1500,
        currency="usd",
        metadata={"kind": "gift"},
    )
    session = stripe_gateway.checkout_payment_create(
        ids=f"live-test:{stamp}",
        line_items=[(price.id, 1)],
        metadata={"kind": "gift", "ref": stamp},
        success_url="https://masthead.example/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://masthead.example/back",
        customer_email="live-test@example.com",
    )
    assert session.mode == "payment" and session.status == "open"
    assert session.payment_status == "unpaid" and session.amount_total == 1500
    assert session.metadata["ref"] == stamp and session.url.startswith("http")
    return session


@pytest.mark.django_db
def test_a_payment_mode_session_opens_against_the_sandbox(sandbox_api: Any) -> None:
    session = open_payment_session()
    assert session.url.startswith(sandbox_api.url)


@pytest.mark.stripe_live
@pytest.mark.django_db
@pytest.mark.skipif(
    not LIVE_KEY.startswith("sk_test_"), reason="needs STRIPE_SECRET_KEY=sk_test_... (network)"
)
def test_a_payment_mode_session_opens_against_stripe_test_mode(settings: Any) -> None:
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_SECRET_KEY = LIVE_KEY
    session = open_payment_session()
    assert session.url.startswith("https://checkout.stripe.com/")
    stripe.StripeClient(LIVE_KEY).v1.checkout.sessions.expire(session.id)
