"""Checkout in payment mode through the SDK: one-time prices, card and bank debit payments,
discounts and promotion codes on them, refunds of them."""

from __future__ import annotations

import pytest
import stripe

from .conftest import events_for, http_request, wait_until
from .test_shapes import FIXTURES, keys

CARD = "4242424242424242"


@pytest.fixture
def one_time(client):
    prod = client.v1.products.create(params={"name": "Gift: 3 months"})
    return client.v1.prices.create(
        params={"product": prod.id, "unit_amount": 2700, "currency": "usd"}
    )


def _session(client, price, **extra):
    params = {
        "mode": "payment",
        "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://x.example/ok?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://x.example/back",
        "metadata": {"kind": "gift", "ref": "7"},
        **extra,
    }
    return client.v1.checkout.sessions.create(params=params)


def _session_events(client, cs_id):
    return [
        e
        for e in client.v1.events.list(params={"limit": 100}).data
        if e.data.object.to_dict().get("id") == cs_id
    ]


def test_a_card_payment_completes_the_session_paid(client, one_time):
    cs = _session(
        client,
        one_time,
        customer_email="buyer@example.com",
        payment_intent_data={"metadata": {"kind": "gift"}, "description": "Gift"},
    )
    assert cs.mode == "payment" and cs.status == "open" and cs.payment_status == "unpaid"
    assert cs.amount_total == 2700 and cs.customer_creation == "if_required"
    assert cs.payment_method_collection is None and cs.invoice_creation.enabled is False
    assert keys(cs) == set(FIXTURES["checkout.session"])
    status, headers, _ = http_request(cs.url, "POST", form={"card_number": CARD})
    assert status == 303 and headers["location"] == f"https://x.example/ok?session_id={cs.id}"
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.status == "complete" and done.payment_status == "paid"
    assert done.customer is None and done.customer_details.email == "buyer@example.com"
    assert done.subscription is None and done.metadata["kind"] == "gift"
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert pi.status == "succeeded" and pi.amount == 2700 and pi.metadata["kind"] == "gift"
    assert pi.description == "Gift" and keys(pi) == set(FIXTURES["payment_intent"])
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert ch.status == "succeeded" and ch.amount_captured == 2700
    completed = [
        e for e in _session_events(client, cs.id) if e.type == "checkout.session.completed"
    ]
    assert len(completed) == 1 and completed[0].data.object.payment_status == "paid"


def test_customer_creation_always_makes_a_customer(client, one_time):
    cs = _session(client, one_time, customer_creation="always")
    http_request(cs.url, "POST", form={"card_number": CARD, "email": "new@example.com"})
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.customer.startswith("cus_")
    assert client.v1.customers.retrieve(done.customer).email == "new@example.com"


def test_a_declined_card_leaves_the_session_open(client, one_time):
    cs = _session(client, one_time, customer_email="d@example.com")
    status, _, html = http_request(cs.url, "POST", form={"card_number": "4000000000000002"})
    assert status == 402 and "Your card was declined." in html
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"


def test_mode_params_are_checked_as_stripe_checks_them(client, one_time, catalog):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(client, catalog["monthly"])
    assert exc.value.param == "line_items[0][price]" and "recurring price" in str(exc.value)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(client, one_time, subscription_data={"metadata": {"a": "b"}})
    assert exc.value.param == "subscription_data"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "line_items": [{"price": one_time.id, "quantity": 1}],
                "success_url": "https://x.example/ok",
            }
        )
    assert exc.value.param == "line_items"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "line_items": [{"price": catalog["monthly"].id}],
                "success_url": "https://x.example/ok",
                "payment_intent_data": {"description": "x"},
            }
        )
    assert exc.value.param == "payment_intent_data"


def test_a_discount_lowers_the_payment_and_counts_a_redemption(client, one_time):
    coupon = client.v1.coupons.create(
        params={"percent_off": 50, "duration": "once", "max_redemptions": 1}
    )
    promo = client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "HALFGIFT"}
    )
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(
            client, one_time, discounts=[{"promotion_code": promo.id}], allow_promotion_codes=True
        )
    assert exc.value.http_status == 400
    cs = _session(
        client,
        one_time,
        discounts=[{"promotion_code": promo.id}],
        customer_email="half@example.com",
    )
    assert cs.amount_total == 1350 and cs.total_details.amount_discount == 1350
    http_request(cs.url, "POST", form={"card_number": CARD})
    pi = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(cs.id).payment_intent
    )
    assert pi.amount == 1350
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(client, one_time, discounts=[{"promotion_code": promo.id}])
    assert exc.value.param == "discounts[0][promotion_code]"


def test_a_first_time_code_needs_a_customer(client, one_time):
    coupon = client.v1.coupons.create(
        params={"amount_off": 500, "currency": "usd", "duration": "once"}
    )
    promo = client.v1.promotion_codes.create(
        params={
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "restrictions": {"first_time_transaction": True},
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(client, one_time, discounts=[{"promotion_code": promo.id}])
    assert exc.value.param == "discounts"
    cus = client.v1.customers.create(params={"email": "first@example.com"})
    cs = _session(client, one_time, customer=cus.id, discounts=[{"promotion_code": promo.id}])
    http_request(cs.url, "POST", form={"card_number": CARD})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(client, one_time, customer=cus.id, discounts=[{"promotion_code": promo.id}])
    assert "first-time" in str(exc.value)


def test_a_code_typed_on_the_page_applies_to_a_payment(client, one_time):
    coupon = client.v1.coupons.create(
        params={"amount_off": 700, "currency": "usd", "duration": "once"}
    )
    client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SEVEN"}
    )
    cs = _session(client, one_time, allow_promotion_codes=True, customer_email="t@example.com")
    http_request(cs.url, "POST", form={"action": "apply_code", "code": "seven"})
    assert client.v1.checkout.sessions.retrieve(cs.id).amount_total == 2000
    http_request(cs.url, "POST", form={"card_number": CARD})
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert client.v1.payment_intents.retrieve(done.payment_intent).amount == 2000


def test_a_bank_debit_settles_later_with_async_payment_succeeded(make_sandbox):
    sbx = make_sandbox("--async-payment-seconds", "0.5")
    client = sbx.client()
    prod = client.v1.products.create(params={"name": "Pack"})
    price = client.v1.prices.create(
        params={"product": prod.id, "unit_amount": 500, "currency": "eur"}
    )
    cs = _session(client, price, customer_email="iban@example.com")
    status, _, _ = http_request(cs.url, "POST", form={"card_number": "DE89 3704 0044 0532 0130 00"})
    assert status == 303
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.status == "complete" and done.payment_status == "unpaid"
    assert client.v1.payment_intents.retrieve(done.payment_intent).status == "processing"
    wait_until(lambda: client.v1.checkout.sessions.retrieve(cs.id).payment_status == "paid")
    types = [e.type for e in _session_events(client, cs.id)]
    assert types.count("checkout.session.async_payment_succeeded") == 1
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert pi.status == "succeeded"
    assert client.v1.charges.retrieve(pi.latest_charge).status == "succeeded"

    failing = _session(client, price, customer_email="iban2@example.com")
    http_request(failing.url, "POST", form={"card_number": "AT861904300235473202"})
    wait_until(
        lambda: (
            "checkout.session.async_payment_failed"
            in [e.type for e in _session_events(client, failing.id)]
        )
    )
    assert client.v1.checkout.sessions.retrieve(failing.id).payment_status == "unpaid"


def test_refunding_a_one_time_payment_emits_charge_refunded(client, one_time):
    cus = client.v1.customers.create(params={"email": "refund-once@example.com"})
    cs = _session(
        client, one_time, customer=cus.id, payment_intent_data={"metadata": {"kind": "gift"}}
    )
    http_request(cs.url, "POST", form={"card_number": CARD})
    pi_id = client.v1.checkout.sessions.retrieve(cs.id).payment_intent
    refund = client.v1.refunds.create(params={"payment_intent": pi_id})
    assert refund.amount == 2700 and refund.status == "succeeded"
    ch = client.v1.charges.retrieve(refund.charge)
    assert ch.refunded is True and ch.metadata["kind"] == "gift"
    refunded = [e for e in events_for(client, cus.id) if e.type == "charge.refunded"]
    assert len(refunded) == 1 and refunded[0].data.object.payment_intent == pi_id
