"""Offers in the admin: saving one pushes it to Stripe on commit, the list shows its terms,
redemptions and Stripe state, and bad terms are refused with a message on the form."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Offer
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client: Client) -> Client:
    client.force_login(StaffFactory())
    return client


def offer_form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Autumn",
        "code": f"autumn-{timezone.now():%H%M%S%f}",
        "percent_off": "30",
        "amount_off": "",
        "currency": "",
        "duration": "forever",
        "duration_in_months": "",
        "max_redemptions": "50",
        "expires_at_0": "",
        "expires_at_1": "",
        "is_active": "on",
    }
    return {**data, **changes}


def test_saving_an_offer_pushes_it_and_the_list_shows_its_state(
    sandbox_api: Any, editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    form = offer_form()
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("admin:billing_offer_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]

    offer = Offer.objects.get()
    assert offer.code == form["code"].upper() and offer.status == "synced"
    promo = sandbox_api.client().v1.promotion_codes.retrieve(offer.promotion_code_id)
    assert promo.code == offer.code and promo.max_redemptions == 50
    listing = editor_client.get(reverse("admin:billing_offer_changelist")).content.decode()
    assert "30% off every payment" in listing and "0 of 50" in listing
    assert "In step with Stripe" in listing


def test_an_offer_needs_exactly_one_kind_of_discount(editor_client: Client) -> None:
    both = offer_form(amount_off="500", currency="usd")
    response = editor_client.post(reverse("admin:billing_offer_add"), both)
    assert response.status_code == 200
    assert "Give either a percent off or an amount off." in response.content.decode()
    months = offer_form(duration="repeating")
    response = editor_client.post(reverse("admin:billing_offer_add"), months)
    assert "How many months does the discount last?" in response.content.decode()
    assert not Offer.objects.exists()
