"""Stripe answering 500s and timing out: Masthead's gateway retries with the same idempotency
key (``max_network_retries``), and when it gives up, the next try (a task retry, the reader
again) uses that key too, so Stripe makes one customer and takes one payment.

The sandbox runs with ``--faults``: a share of API requests answered with Stripe's 500 before
anything is done, another share done and then held past Masthead's timeout.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import stripe

from billing import stripe_gateway
from billing.errors import BillingError, BillingErrorCode
from billing.models import Customer
from billing.services import customer_ensure
from stripe_sandbox.testing import RunningSandbox, running_sandbox
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T = TypeVar("T")
STRIPE_KEY = "sk_test_masthead_faults"
TIMEOUT = 0.5  # STRIPE_TIMEOUT_SECONDS here; stalled answers come 1.5 s late
FAULTS = "500=0.3,timeout=0.2,stall=1.5,seed=5"


@pytest.fixture
def flaky(settings: Any, tmp_path: Path) -> Iterator[RunningSandbox]:
    """Masthead's gateway talks to a sandbox that fails half its API requests."""
    with running_sandbox(tmp_path / "stripe", args=["--faults", FAULTS]) as sandbox:
        settings.STRIPE_API_BASE = sandbox.url
        settings.STRIPE_SECRET_KEY = STRIPE_KEY
        settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT
        assert settings.STRIPE_MAX_NETWORK_RETRIES > 0
        yield sandbox
        print("faults injected:", sandbox.get_json("/_sandbox/faults"))


def stripe_side(sandbox: RunningSandbox) -> Any:
    """A client that looks at Stripe's side through the same faults, retrying until it gets
    an answer (the SDK gives its POSTs an idempotency key of its own)."""
    http = stripe.new_default_http_client(timeout=TIMEOUT)
    return sandbox.client(STRIPE_KEY, max_network_retries=12, http_client=http)


class Persisting:
    """Call again what failed because Stripe was unreachable, as a task retry would."""

    def __init__(self) -> None:
        self.gave_up = 0

    def __call__(self, call: Callable[[], T]) -> T:
        for _ in range(12):
            try:
                return call()
            except BillingError as exc:
                assert exc.code == BillingErrorCode.STRIPE_UNAVAILABLE, exc.message
                self.gave_up += 1
        raise AssertionError("Stripe never answered")


def test_customers_created_through_500s_and_timeouts_exist_once_at_stripe(
    flaky: RunningSandbox,
) -> None:
    readers = [UserFactory() for _ in range(6)]
    persist = Persisting()

    customers = [persist(lambda r=reader: customer_ensure(user=r)) for reader in readers]

    stripe = stripe_side(flaky)
    for reader, customer in zip(readers, customers, strict=True):
        at_stripe = stripe.v1.customers.list(params={"email": reader.email}).data
        assert [c.id for c in at_stripe] == [customer.stripe_id], reader.email
        assert at_stripe[0].metadata["user_id"] == str(reader.pk)
    assert Customer.objects.count() == len(readers)
    faults = flaky.get_json("/_sandbox/faults")
    assert faults["500"] > 0 and faults["timeout"] > 0
    print(f"customers: {len(readers)}, gateway gave up and was called again {persist.gave_up}x")


def test_an_invoice_paid_through_500s_and_timeouts_is_charged_once(flaky: RunningSandbox) -> None:
    stripe = stripe_side(flaky)
    product = stripe.v1.products.create(params={"name": "Masthead Complete"})
    price = stripe.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": 1299,
            "currency": "gbp",
            "recurring": {"interval": "month"},
        }
    )
    persist = Persisting()
    unpaid = []
    for _ in range(3):
        customer = persist(lambda: customer_ensure(user=UserFactory()))
        subscription = stripe.v1.subscriptions.create(
            params={
                "customer": customer.stripe_id,
                "items": [{"price": price.id}],
                "default_payment_method": "pm_card_chargeCustomerFail",
            }
        )
        card = stripe.v1.payment_methods.attach(
            "pm_card_visa", params={"customer": customer.stripe_id}
        )
        unpaid.append((customer.stripe_id, str(subscription.latest_invoice), card.id))

    for _, invoice_id, card_id in unpaid:
        paid = persist(
            lambda i=invoice_id, c=card_id: stripe_gateway.invoice_pay(
                invoice_id=i, payment_method_id=c
            )
        )
        assert paid.status == "paid"

    for customer_id, invoice_id, _ in unpaid:
        charges = stripe.v1.charges.list(params={"customer": customer_id}).data
        succeeded = [c for c in charges if c.status == "succeeded"]
        assert [c.amount for c in succeeded] == [1299], customer_id
        assert stripe.v1.invoices.retrieve(invoice_id).status == "paid"
    faults = flaky.get_json("/_sandbox/faults")
    assert faults["500"] > 0 and faults["timeout"] > 0
    print(f"invoices: {len(unpaid)}, gateway gave up and was called again {persist.gave_up}x")
