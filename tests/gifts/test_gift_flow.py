"""Gift memberships end to end against the sandbox as a real process delivering signed
webhooks: buy through the API, pay on the hosted page, fulfil once, redeem, refund."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import OneTimePayment, WebhookEvent
from gifts.models import Gift
from gifts.services import gift_recipient_emails_send, gift_reminders_send
from membership.access import article_access
from membership.models import Entitlement, OutboxMessage
from tests.billing.paying import checkout_pay, plan_on_sale
from tests.billing.test_delivery import all_delivered, wait_for
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CODE = re.compile(r"GIFT-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")


def signed_in(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def buy_gift(buyer: Any, plan: Any, **extra: Any) -> str:
    """Buy a gift through the API and pay for it on the hosted page; return the session."""
    response = signed_in(buyer).post(
        "/api/v1/gifts/", {"plan": plan.slug, "months": 3, **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (
        response["Cache-Control"].startswith("private") or "no-store" in response["Cache-Control"]
    )
    checkout_pay(response.json()["url"])
    return OneTimePayment.objects.get(user=buyer, kind="gift").checkout_session_id


def code_mailed_to(email: str) -> str:
    bodies = OutboxMessage.objects.filter(to=email, kind__startswith="gifts.")
    found = [m for body in bodies.values_list("body", flat=True) for m in CODE.findall(body)]
    assert found, f"no gift code was emailed to {email}"
    return found[0]


@pytest.mark.sandbox_args("--chaos", "dup=0.5,shuffle=1")
def test_buy_pay_fulfil_once_and_redeem(sandbox_webhooks: Any) -> None:
    plan = plan_on_sale(monthly_amount=900, currency="usd")
    buyer = UserFactory()
    session_id = buy_gift(buyer, plan, recipient_email="friend@example.com", message="Enjoy!")
    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery")

    assert any(d["duplicate"] for d in sandbox_webhooks.deliveries()), "chaos sent duplicates"
    assert not WebhookEvent.objects.filter(status="failed").exists()
    gift = Gift.objects.get()  # one gift for one paid session, however often it was told
    assert gift.payment.checkout_session_id == session_id and gift.months == 3
    assert gift.status == "redeemable" and gift.recipient_sent_at is not None
    code = code_mailed_to(buyer.email)
    assert code_mailed_to("friend@example.com") == code
    assert code not in str(Gift.objects.values().get()), "the code is not stored"
    paid = sandbox_webhooks.client().v1.checkout.sessions.retrieve(session_id)
    assert paid.amount_total == 2700 and paid.mode == "payment"

    terms = APIClient().get(f"/api/v1/gifts/{code.lower()}/")
    assert terms.status_code == 200
    assert terms.json()["state"] == "redeemable" and terms.json()["months"] == 3
    assert terms.json()["plan"]["slug"] == plan.slug and terms.json()["message"] == "Enjoy!"

    friend = UserFactory(email="friend@example.com")
    article = ArticleFactory()
    assert article_access(reader=friend, article=article).granted is False
    redeemed = signed_in(friend).post(f"/api/v1/gifts/{code}/redeem/")
    assert redeemed.status_code == 200, redeemed.content
    entitlement = Entitlement.objects.get(user=friend)
    assert entitlement.source == "gift"
    assert timedelta(days=88) < entitlement.ends_at - timezone.now() < timedelta(days=93)
    assert article_access(reader=friend, article=article).reason == "gift"

    again = signed_in(UserFactory()).post(f"/api/v1/gifts/{code}/redeem/")
    assert again.status_code == 409, again.content
    assert again.json()["error"]["code"] == "gift_already_redeemed"
    assert APIClient().get(f"/api/v1/gifts/{code}/").json()["state"] == "redeemed"


def test_refunds_void_an_unredeemed_gift_and_end_a_redeemed_one(sandbox_webhooks: Any) -> None:
    plan = plan_on_sale(monthly_amount=500, currency="usd")
    stripe = sandbox_webhooks.client()
    first_buyer, second_buyer = UserFactory(), UserFactory()
    buy_gift(first_buyer, plan)
    buy_gift(second_buyer, plan)
    wait_for(lambda: all_delivered(sandbox_webhooks) and Gift.objects.count() == 2, "the gifts")
    kept, used = code_mailed_to(first_buyer.email), code_mailed_to(second_buyer.email)
    reader = UserFactory()
    assert signed_in(reader).post(f"/api/v1/gifts/{used}/redeem/").status_code == 200
    article = ArticleFactory()
    assert article_access(reader=reader, article=article).granted

    for buyer in (first_buyer, second_buyer):
        payment = OneTimePayment.objects.get(user=buyer)
        stripe.v1.refunds.create(params={"payment_intent": payment.payment_intent_id})
    wait_for(lambda: all_delivered(sandbox_webhooks), "the refunds")

    assert set(Gift.objects.values_list("status", flat=True)) == {"voided"}
    assert article_access(reader=reader, article=article).granted is False
    refused = signed_in(UserFactory()).post(f"/api/v1/gifts/{kept}/redeem/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "gift_voided"


def test_a_scheduled_gift_reaches_the_recipient_on_its_day_and_reminds_before_it_ends(
    sandbox_webhooks: Any,
) -> None:
    plan = plan_on_sale(monthly_amount=500, currency="usd")
    send_at = timezone.now() + timedelta(days=3)
    buyer = UserFactory()
    buy_gift(buyer, plan, recipient_email="later@example.com", send_at=send_at.isoformat())
    wait_for(lambda: all_delivered(sandbox_webhooks) and Gift.objects.exists(), "the gift")
    assert not OutboxMessage.objects.filter(to="later@example.com").exists()
    assert gift_recipient_emails_send() == 0
    assert gift_recipient_emails_send(at=send_at + timedelta(minutes=1)) == 1
    assert gift_recipient_emails_send(at=send_at + timedelta(minutes=2)) == 0
    code = code_mailed_to("later@example.com")

    reader = UserFactory(email="later@example.com")
    assert signed_in(reader).post(f"/api/v1/gifts/{code}/redeem/").status_code == 200
    ends_at = Entitlement.objects.get(user=reader).ends_at
    assert gift_reminders_send() == 0
    with time_machine.travel(ends_at - timedelta(days=6), tick=False):
        assert gift_reminders_send() == 1
        assert gift_reminders_send() == 0
    reminder = OutboxMessage.objects.get(kind="gifts.ending")
    assert reminder.to == "later@example.com" and "/pricing/" in reminder.body


def test_buying_a_gift_refuses_bad_input_and_anonymous_readers(sandbox_api: Any) -> None:
    plan = plan_on_sale(monthly_amount=500, currency="usd")
    buyer = signed_in(UserFactory())
    assert APIClient().post("/api/v1/gifts/", {"plan": plan.slug, "months": 3}).status_code in (
        401,
        403,
    )
    bad_length = buyer.post("/api/v1/gifts/", {"plan": plan.slug, "months": 2}, format="json")
    assert bad_length.status_code == 400
    unknown = buyer.post("/api/v1/gifts/", {"plan": "nope", "months": 3}, format="json")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_plan"
    past = buyer.post(
        "/api/v1/gifts/",
        {"plan": plan.slug, "months": 3, "send_at": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert past.status_code == 400 and past.json()["error"]["code"] == "invalid_send_at"
    assert APIClient().get("/api/v1/gifts/GIFT-AAAA-AAAA-AAAA-AAAA/").status_code == 404
    assert APIClient().get("/api/v1/gifts/not-a-code/").json()["error"]["code"] == "gift_not_found"
    anonymous = APIClient().post("/api/v1/gifts/GIFT-AAAA-AAAA-AAAA-AAAA/redeem/")
    assert anonymous.status_code in (401, 403)
