"""The Stripe gateway's promises that need no Stripe at all."""

import stripe
from django.conf import settings

from billing.stripe_gateway import idempotency_key


def test_the_pinned_api_version_is_the_sdks_own() -> None:
    assert stripe.api_version == settings.STRIPE_API_VERSION


def test_idempotency_keys_name_the_operation_and_ids_and_follow_the_parameters() -> None:
    first = idempotency_key("customer-create", "user:42", {"email": "a@example.com"})
    same = idempotency_key("customer-create", "user:42", {"email": "a@example.com"})
    other = idempotency_key("customer-create", "user:42", {"email": "b@example.com"})

    assert first.startswith("customer-create:user:42:")
    assert first == same
    assert first != other
