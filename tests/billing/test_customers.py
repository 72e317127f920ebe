"""A Stripe customer per reader, made on first need, through the real SDK and sandbox."""

import pytest

from billing.models import Customer
from billing.services import customer_ensure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_reader_gets_one_customer_with_their_id_in_metadata(sandbox_api) -> None:  # type: ignore[no-untyped-def]
    reader = UserFactory(email="paying.reader@example.com")

    first = customer_ensure(user=reader)
    again = customer_ensure(user=reader)

    assert first == again
    assert Customer.objects.count() == 1
    at_stripe = sandbox_api.client().v1.customers.retrieve(first.stripe_id)
    assert at_stripe.email == "paying.reader@example.com"
    assert at_stripe.metadata["user_id"] == str(reader.pk)
