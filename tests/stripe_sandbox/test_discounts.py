"""Coupons, promotion codes, the code field of hosted Checkout, and discounted invoices."""

from __future__ import annotations

import re

import pytest
import stripe

from .conftest import advance, events_for, http_request

T0 = 1_920_000_000
DAY = 86400


def _coupon(client, **params):
    return client.v1.coupons.create(params={"duration": "once", **params})


def _promo(client, coupon, code=None, **params):
    return client.v1.promotion_codes.create(
        params={
            "promotion": {"type": "coupon", "coupon": coupon.id},
            **({"code": code} if code else {}),
            **params,
        }
    )


def test_coupons_are_created_read_updated_listed_and_deleted(client):
    pct = _coupon(client, percent_off=25.5, name="Quarter off", metadata={"k": "v"})
    assert pct.object == "coupon" and pct.percent_off == 25.5 and pct.amount_off is None
    assert pct.duration == "once" and pct.valid and pct.times_redeemed == 0
    fixed = client.v1.coupons.create(
        params={
            "id": "WELCOME5",
            "amount_off": 500,
            "currency": "USD",
            "duration": "repeating",
            "duration_in_months": 3,
            "max_redemptions": 10,
        }
    )
    assert fixed.id == "WELCOME5" and fixed.currency == "usd" and fixed.duration_in_months == 3
    assert client.v1.coupons.retrieve("WELCOME5").amount_off == 500
    renamed = client.v1.coupons.update(pct.id, params={"name": "25% off"})
    assert renamed.name == "25% off"
    assert {pct.id, "WELCOME5"} <= {
        c.id for c in client.v1.coupons.list(params={"limit": 100}).data
    }
    bad = [
        ({}, None),
        ({"percent_off": 10, "amount_off": 5}, "amount_off"),
        ({"amount_off": 500}, "currency"),
        ({"percent_off": 120}, "percent_off"),
        ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
        ({"id": "WELCOME5", "percent_off": 5}, "id"),
    ]
    for params, param in bad:
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.coupons.create(params=params)
        assert exc.value.http_status == 400 and exc.value.param == param, params
    gone = client.v1.coupons.delete("WELCOME5")
    assert gone.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.retrieve("WELCOME5")
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"


def test_promotion_codes_are_created_listed_and_deactivated(client):
    coupon = _coupon(client, percent_off=20)
    promo = _promo(client, coupon, "SPRING20", max_redemptions=5, metadata={"c": "x"})
    assert promo.id.startswith("promo_") and promo.code == "SPRING20" and promo.active
    assert promo.promotion.type == "coupon" and promo.promotion.coupon == coupon.id
    assert promo.times_redeemed == 0 and promo.restrictions.first_time_transaction is False
    generated = _promo(client, coupon)
    assert re.fullmatch(r"[A-Z0-9]{8}", generated.code)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _promo(client, coupon, "spring20")
    assert exc.value.code == "resource_already_exists"
    found = client.v1.promotion_codes.list(params={"code": "spring20"})
    assert [p.id for p in found.data] == [promo.id]
    by_coupon = client.v1.promotion_codes.list(params={"coupon": coupon.id})
    assert {p.id for p in by_coupon.data} == {promo.id, generated.id}
    off = client.v1.promotion_codes.update(promo.id, params={"active": False})
    assert off.active is False
    assert client.v1.promotion_codes.retrieve(promo.id).active is False
    assert promo.id not in {
        p.id
        for p in client.v1.promotion_codes.list(params={"active": True, "coupon": coupon.id}).data
    }
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": "NOPE"}})
    assert exc.value.http_status == 404 and exc.value.param == "promotion[coupon]"


def test_a_promotion_code_typed_on_hosted_checkout_discounts_the_first_invoice(client, catalog):
    coupon = _coupon(client, percent_off=20, name="Launch")
    promo = _promo(client, coupon, "LAUNCH20")
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    cus = client.v1.customers.create(params={"email": "promo@example.com", "test_clock": clock.id})
    cs = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": cus.id,
            "allow_promotion_codes": True,
            "success_url": "https://x.example/ok",
            "line_items": [{"price": catalog["monthly"].id, "quantity": 1}],
        }
    )
    html = http_request(cs.url)[2]
    assert "Promotion code" in html and "name='code'" in html
    status, _, html = http_request(
        cs.url, "POST", form={"action": "apply_code", "code": "NOTACODE"}
    )
    assert "This code is invalid." in html
    status, headers, _ = http_request(
        cs.url, "POST", form={"action": "apply_code", "code": "launch20"}
    )
    assert status == 303
    html = http_request(headers["location"])[2]
    assert "LAUNCH20: 20% off once" in html and "Total due today: $7.20" in html
    assert "name='code'" not in html
    cs = client.v1.checkout.sessions.retrieve(cs.id)
    assert cs.amount_subtotal == 900 and cs.amount_total == 720
    assert cs.total_details.amount_discount == 180
    assert cs.discounts[0].promotion_code == promo.id

    assert http_request(cs.url, "POST", form={"card_number": "4242424242424242"})[0] == 303
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["invoice"]})
    first = cs.invoice
    assert first.subtotal == 900 and first.total == 720 and first.amount_paid == 720
    assert first.total_discount_amounts[0].amount == 180
    assert first.lines.data[0].discount_amounts[0].amount == 180
    di = client.v1.invoices.retrieve(first.id, params={"expand": ["discounts"]}).discounts[0]
    assert di.object == "discount" and di.promotion_code == promo.id
    assert di.source.coupon == coupon.id and di.checkout_session == cs.id
    assert di.subscription == cs.subscription and di.customer == cus.id
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    types = [e.type for e in events_for(client, cus.id)]
    assert "customer.discount.created" in types and "customer.discount.deleted" in types
    # `once`: the renewal is charged in full.
    sub = client.v1.subscriptions.retrieve(cs.subscription)
    assert list(sub.discounts) == []
    advance(client, clock.id, sub["items"].data[0].current_period_end + 60)
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert renewal.amount_paid == 900 and list(renewal.discounts) == []


def test_codes_the_hosted_page_refuses(client, catalog):
    coupon = _coupon(client, amount_off=100, currency="usd", max_redemptions=1)
    expired = _promo(client, coupon, "OLDCODE", active=False)
    minimum = _promo(
        client,
        coupon,
        "BIGSPEND",
        restrictions={"minimum_amount": 5000, "minimum_amount_currency": "usd"},
    )
    cs = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer_email": "refused@example.com",
            "allow_promotion_codes": True,
            "line_items": [{"price": catalog["monthly"].id, "quantity": 1}],
        }
    )
    for code, shown in (
        (expired.code, "This promotion code is inactive."),
        (minimum.code, "minimum order of $50.00"),
    ):
        html = http_request(cs.url, "POST", form={"action": "apply_code", "code": code})[2]
        assert shown in html
    assert client.v1.checkout.sessions.retrieve(cs.id).total_details.amount_discount == 0
    plain = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer_email": "plain@example.com",
            "line_items": [{"price": catalog["monthly"].id, "quantity": 1}],
        }
    )
    assert "name='code'" not in http_request(plain.url)[2]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "allow_promotion_codes": True,
                "discounts": [{"coupon": coupon.id}],
                "line_items": [{"price": catalog["monthly"].id, "quantity": 1}],
            }
        )
    assert exc.value.param == "discounts"
    given = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "discounts": [{"coupon": coupon.id}],
            "line_items": [{"price": catalog["monthly"].id, "quantity": 1}],
        }
    )
    assert given.amount_total == 800 and given.discounts[0].coupon == coupon.id


def test_a_repeating_amount_off_coupon_lasts_its_months_and_waits_out_a_trial(client, catalog):
    coupon = _coupon(
        client, amount_off=300, currency="usd", duration="repeating", duration_in_months=2
    )
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    cus = client.v1.customers.create(params={"email": "repeat@example.com", "test_clock": clock.id})
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_visa",
            "discounts": [{"coupon": coupon.id}],
            "expand": ["latest_invoice", "discounts"],
        }
    )
    assert sub.latest_invoice.total == 600 and sub.discounts[0].end is not None
    paid = [600]
    for _ in range(2):
        end = client.v1.subscriptions.retrieve(sub.id)["items"].data[0].current_period_end
        advance(client, clock.id, end + 60)
        inv = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
        paid.append(inv.amount_paid)
    assert paid == [600, 600, 900]
    assert list(client.v1.subscriptions.retrieve(sub.id).discounts) == []

    trial_coupon = _coupon(client, percent_off=50)
    promo = _promo(client, trial_coupon)
    trial = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "trial_period_days": 3,
            "default_payment_method": "pm_card_visa",
            "discounts": [{"promotion_code": promo.id}],
        }
    )
    assert len(trial.discounts) == 1  # the zero trial invoice does not use it up
    advance(client, clock.id, trial.trial_end + 60)
    trial = client.v1.subscriptions.retrieve(trial.id, params={"expand": ["latest_invoice"]})
    assert trial.latest_invoice.amount_paid == 450 and list(trial.discounts) == []
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(
            params={
                "customer": cus.id,
                "items": [{"price": catalog["monthly"].id}],
                "discounts": [{"coupon": "NOPE"}],
            }
        )
    assert exc.value.http_status == 404 and exc.value.param == "discounts[0][coupon]"
