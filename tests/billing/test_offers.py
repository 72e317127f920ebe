"""Offers against the sandbox as a real process: pushed as a coupon plus a promotion code,
their terms over the API and on their page, Checkout with the discount applied, refusals in
Masthead's words, and the discount shown on the reader's subscription."""

from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from billing.checkout import checkout_complete
from billing.models import Offer
from billing.offers import offer_push
from tests.billing.paying import checkout_pay, plan_on_sale
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/billing/checkout/"
# The sandbox is shared by the session and keeps its codes: each test has its own.
SERIAL = count(1)


def unique(code: str) -> str:
    return f"{code}-{next(SERIAL)}-{timezone.now():%H%M%S%f}"


def make_offer(*plans: Any, **fields: Any) -> Offer:
    values: dict[str, Any] = {
        "name": "Spring sale",
        "code": "SPRING50",
        "percent_off": 50,
        "duration": "repeating",
        "duration_in_months": 3,
        **fields,
    }
    values["code"] = unique(values["code"])
    offer = Offer.objects.create(**values)
    offer.plans.set(plans)
    return offer_push(offer_id=offer.pk)


def signed_in(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def open_checkout(user: Any, plan: Any, offer: str = "") -> Any:
    body = {"plan": plan.slug, "interval": "month"}
    if offer:
        body["offer"] = offer
    return signed_in(user).post(CHECKOUT, body, format="json")


def session_of(sandbox: Any, url: str) -> Any:
    return sandbox.client().v1.checkout.sessions.retrieve(url.rsplit("/", 1)[-1])


def test_an_offer_is_pushed_as_a_coupon_and_a_promotion_code(sandbox_api: Any) -> None:
    plan = plan_on_sale(monthly_amount=1000, currency="usd")
    offer = make_offer(plan, max_redemptions=100, first_time_only=True)
    assert offer.status == "synced" and offer.coupon_id and offer.promotion_code_id
    stripe = sandbox_api.client()
    promo = stripe.v1.promotion_codes.retrieve(offer.promotion_code_id)
    assert (
        promo.code == offer.code
        and promo.code.startswith("SPRING50-")
        and promo.active
        and promo.max_redemptions == 100
    )
    assert promo.restrictions.first_time_transaction is True
    coupon = stripe.v1.coupons.retrieve(offer.coupon_id)
    assert coupon.percent_off == 50 and coupon.duration == "repeating"
    assert coupon.duration_in_months == 3

    Offer.objects.filter(pk=offer.pk).update(percent_off=25)
    moved = offer_push(offer_id=offer.pk)
    assert moved.promotion_code_id != promo.id
    assert stripe.v1.promotion_codes.retrieve(promo.id).active is False
    assert stripe.v1.coupons.retrieve(moved.coupon_id).percent_off == 25
    Offer.objects.filter(pk=offer.pk).update(is_active=False)
    assert offer_push(offer_id=offer.pk).promotion_code_id == moved.promotion_code_id
    assert stripe.v1.promotion_codes.retrieve(moved.promotion_code_id).active is False


def test_the_terms_over_the_api_and_on_the_offer_page(sandbox_api: Any) -> None:
    plan = plan_on_sale(monthly_amount=1000, yearly_amount=10000, currency="usd")
    other = plan_on_sale(monthly_amount=2000, currency="usd")
    offer = make_offer(plan, expires_at=timezone.now() + timedelta(days=10), max_redemptions=5)

    answer = APIClient().get(f"/api/v1/offers/{offer.code.lower()}/")
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    terms = answer.json()
    assert terms["code"] == offer.code and terms["terms"] == "50% off for 3 months"
    assert terms["available"] is True and terms["redemptions_left"] == 5
    assert [p["slug"] for p in terms["plans"]] == [plan.slug]
    assert {"interval": "month", "amount": 1000, "discounted": 500} in terms["plans"][0]["prices"]
    assert other.slug not in str(terms)
    missing = APIClient().get("/api/v1/offers/NOPE-NOPE/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "offer_not_found"

    page = Client().get(f"/offers/{offer.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "50% off for 3 months" in html and "$5.00" in html and "$10.00" in html
    assert Client().get("/offers/NOPE-NOPE/").status_code == 404


def test_checkout_applies_the_offer_and_the_subscription_shows_it(sandbox_api: Any) -> None:
    plan = plan_on_sale(monthly_amount=1000, currency="usd", trial_days=0)
    offer = make_offer(plan)
    reader = UserFactory()

    opened = open_checkout(reader, plan, offer=offer.code.lower())
    assert opened.status_code == 201, opened.content
    session = session_of(sandbox_api, opened.json()["url"])
    assert session.amount_total == 500 and session.allow_promotion_codes is None
    assert session.discounts[0].promotion_code == Offer.objects.get().promotion_code_id
    checkout_pay(opened.json()["url"])
    checkout_complete(user=reader, session_id=session.id)

    me = signed_in(reader).get("/api/v1/me/").json()["subscription"]
    assert me["discount"]["description"].startswith("50% off each payment until")
    assert me["discount"]["duration"] == "repeating" and me["discount"]["name"] == "Spring sale"
    ends = timezone.now() + timedelta(days=90)
    assert abs((timezone.datetime.fromisoformat(me["discount"]["ends_at"]) - ends).days) <= 2
    page = Client()
    page.force_login(reader)
    assert "Spring sale: 50% off" in page.get("/account/").content.decode()
    assert Offer.objects.get().times_redeemed == 0  # counted again at the next check
    plain = open_checkout(UserFactory(), plan)
    assert session_of(sandbox_api, plain.json()["url"]).allow_promotion_codes is True


def test_refusals_are_masthead_codes_never_stripe_text(sandbox_api: Any) -> None:
    plan = plan_on_sale(monthly_amount=1000, currency="usd", trial_days=0)
    uncovered = plan_on_sale(monthly_amount=1000, currency="usd")
    one = make_offer(plan, code="ONLYONE", max_redemptions=1).code
    over = make_offer(plan, code="OVER", expires_at=timezone.now() + timedelta(days=1)).code
    Offer.objects.filter(code=over).update(expires_at=timezone.now() - timedelta(minutes=1))
    new_only = make_offer(plan, code="NEWONLY", first_time_only=True).code

    expired = open_checkout(UserFactory(), plan, offer=over.lower())
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "offer_expired"
    wrong_plan = open_checkout(UserFactory(), uncovered, offer=one)
    assert wrong_plan.json()["error"]["code"] == "offer_not_applicable"
    assert wrong_plan.status_code == 409

    first = UserFactory()
    opened = open_checkout(first, plan, offer=one)
    checkout_pay(opened.json()["url"])
    checkout_complete(user=first, session_id=opened.json()["url"].rsplit("/", 1)[-1])
    used_up = open_checkout(UserFactory(), plan, offer=one)
    assert used_up.status_code == 409 and used_up.json()["error"]["code"] == "offer_exhausted"
    assert Offer.objects.get(code=one).times_redeemed == 1
    terms = APIClient().get(f"/api/v1/offers/{one}/").json()
    assert terms["available"] is False and terms["unavailable_code"] == "offer_exhausted"

    # A reader who paid before is not new: the first-time offer is not for them.
    returning = APIClient()
    returning.force_login(first)
    seen = returning.get(f"/api/v1/offers/{new_only}/").json()
    assert seen["available"] is False and seen["unavailable_code"] == "offer_not_applicable"
    assert APIClient().get(f"/api/v1/offers/{new_only}/").json()["available"] is True
    bad = signed_in(UserFactory()).post(
        CHECKOUT, {"plan": plan.slug, "interval": "month", "offer": "x" * 50}, format="json"
    )
    assert bad.status_code == 400
