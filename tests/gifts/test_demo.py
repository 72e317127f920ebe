"""The demo step of `make run`: an offer code and a gift code, made through the sandbox."""

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from billing.models import Offer
from tests.billing.paying import plan_on_sale

pytestmark = pytest.mark.django_db


def test_the_demo_prints_a_usable_offer_code_and_gift_code(sandbox_api: Any) -> None:
    plan_on_sale(monthly_amount=900, currency="usd")
    Offer.objects.filter(code="WELCOME50").delete()
    first, second = StringIO(), StringIO()
    call_command("gifts_seed_demo", stdout=first)
    call_command("gifts_seed_demo", stdout=second)

    gift_codes = re.findall(r"GIFT-[A-Z0-9-]{19}", first.getvalue())
    assert gift_codes and gift_codes == re.findall(r"GIFT-[A-Z0-9-]{19}", second.getvalue())
    assert "WELCOME50" in first.getvalue()
    terms = APIClient().get(f"/api/v1/gifts/{gift_codes[0]}/").json()
    assert terms["state"] == "redeemable" and terms["months"] == 3
    assert APIClient().get("/api/v1/offers/WELCOME50/").json()["available"] is True
