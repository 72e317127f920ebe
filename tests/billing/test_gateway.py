"""The Stripe gateway's promises that need no Stripe at all."""

import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stripe
from django.conf import settings

from billing.errors import BillingError
from billing.stripe_gateway import (
    StripeEvent,
    StripeInvoice,
    StripeSubscription,
    idempotency_key,
    stripe_call,
)
from billing.stripe_gateway.client import HttpClient
from tests.factories import stripe_subscription_data


def test_the_pinned_api_version_is_the_sdks_own() -> None:
    assert stripe.api_version == settings.STRIPE_API_VERSION


def test_idempotency_keys_name_the_operation_and_ids_and_follow_the_parameters() -> None:
    first = idempotency_key("customer-create", "user:42", {"email": "a@example.com"})
    same = idempotency_key("customer-create", "user:42", {"email": "a@example.com"})
    other = idempotency_key("customer-create", "user:42", {"email": "b@example.com"})

    assert first.startswith("customer-create:user:42:")
    assert first == same
    assert first != other


# The HTTP client ---------------------------------------------------------------------

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_the_http_client_takes_its_proxy_from_the_environment_once(
    no_proxy_settings: pytest.MonkeyPatch,
) -> None:
    no_proxy_settings.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    through_proxy = HttpClient(timeout=1, api_base="https://api.stripe.com")
    no_proxy_settings.setenv("NO_PROXY", "127.0.0.1")
    bypassed = HttpClient(timeout=1, api_base="http://127.0.0.1:12111")

    assert through_proxy._proxy is not None
    assert through_proxy._proxy["https"] == "http://proxy.example:3128"
    assert bypassed._proxy is None


def test_each_threads_session_does_not_read_the_environment_again(
    no_proxy_settings: pytest.MonkeyPatch,
) -> None:
    client = HttpClient(timeout=1, api_base="")
    sessions = []
    for _ in range(2):
        worker = threading.Thread(target=lambda: sessions.append(client._thread_local.session))
        worker.start()
        worker.join()

    assert sessions[0] is not sessions[1]
    assert [session.trust_env for session in sessions] == [False, False]


# The error boundary ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (stripe.CardError("Your card was declined.", None, "card_declined"), "card_declined", 402),
        (stripe.InvalidRequestError("No such subscription", None, http_status=404),
         "stripe_not_found", 404),
        (stripe.InvalidRequestError("Bad price", "price", http_status=400),
         "stripe_refused", 400),
        (stripe.APIConnectionError("Connection refused"), "stripe_unavailable", 503),
    ],
)  # fmt: skip
def test_stripe_call_turns_stripes_exceptions_into_billing_errors(
    error: stripe.StripeError, code: str, status: int
) -> None:
    @stripe_call
    def failing(*, argument: str) -> str:
        raise error

    with pytest.raises(BillingError) as refused:
        failing(argument="x")

    assert (refused.value.code, refused.value.status) == (code, status)
    assert refused.value.__cause__ is error


def test_stripe_call_passes_answers_through() -> None:
    @stripe_call
    def answering(*, value: int) -> int:
        return value + 1

    assert answering(value=1) == 2


# Shapes --------------------------------------------------------------------------------


def test_a_subscription_shape_reads_the_first_item_and_the_expanded_invoice() -> None:
    data = stripe_subscription_data(
        id="sub_1", customer="cus_1", status="past_due", user_id=7, plan_id=3,
        price_id="price_1", interval="year", period_end=datetime(2030, 1, 1, tzinfo=UTC),
        trial_end=1_800_000_000, cancel_at_period_end=True, created=1_700_000_000,
        default_payment_method={"id": "pm_1", "object": "payment_method"},
        latest_invoice={
            "id": "in_1", "status": "open", "hosted_invoice_url": "https://pay.example/in_1",
            "status_transitions": {"finalized_at": 1_750_000_000}, "created": 1_740_000_000,
        },
    )  # fmt: skip

    shape = StripeSubscription.from_api(data)

    assert (shape.id, shape.customer_id, shape.user_id, shape.status) == (
        "sub_1", "cus_1", 7, "past_due",
    )  # fmt: skip
    assert (shape.item_id, shape.price.id, shape.price.interval, shape.price.plan_id) == (
        "si_sub_1", "price_1", "year", 3,
    )  # fmt: skip
    assert shape.current_period_end == datetime(2030, 1, 1, tzinfo=UTC)
    assert shape.trial_end == datetime.fromtimestamp(1_800_000_000, tz=UTC)
    assert shape.cancel_at_period_end is True and shape.cancel_at is None
    assert shape.started_at == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert shape.default_payment_method_id == "pm_1"
    assert shape.latest_invoice_id == "in_1" and shape.latest_invoice is not None
    assert shape.latest_invoice.is_open
    assert shape.latest_invoice.issued_at == datetime.fromtimestamp(1_750_000_000, tz=UTC)
    assert shape.data is data


def test_a_subscription_without_items_or_expansions_has_empty_parts() -> None:
    shape = StripeSubscription.from_api({"id": "sub_2", "latest_invoice": "in_2"})

    assert shape.status == "incomplete"
    assert (shape.item_id, shape.price.id, shape.current_period_end) == ("", "", None)
    assert shape.price.plan_id is None and shape.user_id is None
    assert (shape.latest_invoice_id, shape.latest_invoice) == ("in_2", None)


@pytest.mark.parametrize(
    "invoice",
    [
        {"id": "in_1", "parent": {"subscription_details": {"subscription": "sub_9"}}},
        {"id": "in_1", "subscription": "sub_9"},  # API versions before 2025-03-31
        {"id": "in_1", "subscription": {"id": "sub_9", "object": "subscription"}},
    ],
)
def test_an_invoice_names_its_subscription_in_every_layout(invoice: dict[str, Any]) -> None:
    assert StripeInvoice.from_api(invoice).subscription_id == "sub_9"


def test_an_invoice_of_no_subscription_names_none() -> None:
    assert StripeInvoice.from_api({"id": "in_1", "parent": None}).subscription_id == ""


def test_an_event_reads_its_envelope_and_its_object_when_asked() -> None:
    event = StripeEvent.from_api(
        {
            "id": "evt_1",
            "type": "customer.subscription.updated",
            "data": {
                "object": {"id": "sub_1"},
                "previous_attributes": {"default_payment_method": None},
            },
        }
    )

    assert (event.id, event.type, event.api_version, event.livemode) == (
        "evt_1", "customer.subscription.updated", "", False,
    )  # fmt: skip
    assert event.object_id == "sub_1" and event.card_replaced


# Where Stripe's layout may be read -----------------------------------------------------

BILLING = Path(__file__).resolve().parents[2] / "billing"
# A key read on a value (not a list literal), except Django's and DRF's own dicts.
STRIPE_KEY_READ = re.compile(
    r"""(?<!options)(?<!response\.data)(?<=[\w)\]])\[["'](id|status|items|data|object|customer|subscription|price|metadata|url|"""
    r"""latest_invoice|current_period_end|parent|recurring)["']\]"""
    r"""|\.get\(["'](status|current_period_end|subscription|items|customer|metadata|"""
    r"""latest_invoice|created|start_date|parent|price|recurring|url|mode)["']"""
)


def _billing_modules_outside_the_gateway() -> list[Path]:
    gateway = BILLING / "stripe_gateway"
    return [
        path
        for path in sorted(BILLING.rglob("*.py"))
        if gateway not in path.parents and "migrations" not in path.parts
    ]


def test_only_the_gateway_imports_stripe() -> None:
    importing = [
        str(path.relative_to(BILLING))
        for path in _billing_modules_outside_the_gateway()
        if re.search(r"^\s*(import stripe\b|from stripe\b)", path.read_text(), re.MULTILINE)
    ]
    assert importing == []


def test_only_the_gateways_shapes_read_stripes_keys() -> None:
    reads = [
        f"{path.relative_to(BILLING)}:{number}: {line.strip()}"
        for path in _billing_modules_outside_the_gateway()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if STRIPE_KEY_READ.search(line)
    ]
    assert reads == []
