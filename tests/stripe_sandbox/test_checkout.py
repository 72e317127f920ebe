"""Checkout sessions in subscription mode and the hosted checkout page."""

from __future__ import annotations

import time

import pytest
import stripe

from .conftest import http_request

SUCCESS = "https://masthead.example/billing/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "https://masthead.example/billing/cancel"


def _session(client, catalog, **extra):
    params = {
        "mode": "subscription",
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "line_items": [{"price": catalog["monthly"].id, "quantity": 1}],
        **extra,
    }
    return client.v1.checkout.sessions.create(params=params)


def test_a_session_takes_the_params_the_app_sends(client, catalog):
    cus = client.v1.customers.create(params={"email": "buyer@example.com"})
    cs = _session(
        client,
        catalog,
        customer=cus.id,
        client_reference_id="user-42",
        metadata={"user_id": "42"},
        allow_promotion_codes=True,
        subscription_data={"trial_period_days": 14, "metadata": {"plan": "m"}},
    )
    assert cs.id.startswith("cs_test_") and cs.object == "checkout.session"
    assert cs.mode == "subscription" and cs.status == "open" and cs.payment_status == "unpaid"
    assert cs.customer == cus.id and cs.client_reference_id == "user-42"
    assert cs.metadata["user_id"] == "42" and cs.allow_promotion_codes is True
    assert cs.url.startswith("http://127.0.0.1:") and cs.success_url == SUCCESS
    assert client.v1.checkout.sessions.retrieve(cs.id).id == cs.id
    with_email = _session(client, catalog, customer_email="new@example.com")
    assert with_email.customer is None and with_email.customer_email == "new@example.com"


def test_a_trial_end_less_than_48_hours_ahead_is_refused(client, catalog):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(client, catalog, subscription_data={"trial_end": int(time.time()) + 47 * 3600})
    assert exc.value.http_status == 400
    assert exc.value.param == "subscription_data[trial_end]"
    ok = _session(client, catalog, subscription_data={"trial_end": int(time.time()) + 49 * 3600})
    assert ok.status == "open"


def test_the_hosted_page_shows_the_plan_and_price_and_links_back(client, catalog):
    cs = _session(client, catalog)
    status, _, html = http_request(cs.url)
    assert status == 200
    assert "Masthead Membership" in html and "$9.00 / month" in html
    assert 'name="card_number"' in html or "name='card_number'" in html
    assert CANCEL in html


def test_paying_with_4242_redirects_to_success_and_starts_the_subscription(client, catalog):
    cs = _session(client, catalog, customer_email="payer@example.com")
    status, headers, _ = http_request(cs.url, "POST", form={"card_number": "4242424242424242"})
    assert status == 303
    assert headers["location"] == SUCCESS.replace("{CHECKOUT_SESSION_ID}", cs.id)
    done = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["subscription"]})
    assert done.status == "complete" and done.payment_status == "paid"
    assert done.subscription.status == "active"
    assert done.customer.startswith("cus_")
    assert client.v1.customers.retrieve(done.customer).email == "payer@example.com"
    types = [
        e.type
        for e in client.v1.events.list(params={"limit": 30}).data
        if done.customer in (e.data.object.to_dict().get("customer"), e.data.object.id)
    ]
    for expected in (
        "checkout.session.completed",
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "payment_intent.succeeded",
    ):
        assert expected in types


def test_card_0002_is_declined_on_the_page_and_the_session_stays_open(client, catalog):
    cs = _session(client, catalog, customer_email="declined@example.com")
    status, _, html = http_request(cs.url, "POST", form={"card_number": "4000000000000002"})
    assert status == 402
    assert "Your card was declined." in html
    again = client.v1.checkout.sessions.retrieve(cs.id)
    assert again.status == "open" and again.subscription is None


def test_card_0341_attaches_during_a_trial(client, catalog):
    cs = _session(
        client,
        catalog,
        customer_email="later@example.com",
        subscription_data={"trial_period_days": 7},
    )
    status, _, _ = http_request(cs.url, "POST", form={"card_number": "4000000000000341"})
    assert status == 303
    done = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["subscription"]})
    assert done.payment_status == "no_payment_required"
    assert done.subscription.status == "trialing"
    assert done.subscription.default_payment_method.startswith("pm_")


def test_sessions_are_expired_and_listed_by_customer_and_status(sandbox, client, catalog):
    cus = client.v1.customers.create(params={"email": "lister@example.com"})
    first = _session(client, catalog, customer=cus.id)
    second = _session(client, catalog, customer=cus.id)
    expired = client.v1.checkout.sessions.expire(first.id)
    assert expired.status == "expired" and expired.url is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(first.id)
    mine = client.v1.checkout.sessions.list(params={"customer": cus.id})
    assert [s.id for s in mine.data] == [second.id, first.id]
    still_open = client.v1.checkout.sessions.list(params={"customer": cus.id, "status": "open"})
    assert [s.id for s in still_open.data] == [second.id]
    status, _, _ = http_request(f"{sandbox.url}/c/pay/{first.id}")
    assert status == 410


def test_the_portal_shows_the_card_paid_with_at_checkout(client, catalog):
    cs = _session(client, catalog, customer_email="portal.card@example.com")
    http_request(cs.url, "POST", form={"card_number": "4242424242424242"})
    done = client.v1.checkout.sessions.retrieve(cs.id)
    portal = client.v1.billing_portal.sessions.create(params={"customer": done.customer})

    status, _, html = http_request(portal.url)

    assert status == 200
    assert "Card ending in 4242" in html and "No card on file" not in html


def test_the_portal_says_no_card_when_there_is_none(client, catalog):
    cus = client.v1.customers.create(params={"email": "nocard@example.com"})
    portal = client.v1.billing_portal.sessions.create(params={"customer": cus.id})

    _, _, html = http_request(portal.url)

    assert "No card on file" in html
