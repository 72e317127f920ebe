"""Charges made by payment intents, and refunds of them, through the SDK."""

from __future__ import annotations

import pytest
import stripe

from .conftest import events_for, http_request


def _paid_subscription(client, catalog, email, card="pm_card_visa"):
    cus = client.v1.customers.create(params={"email": email})
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": card,
        }
    )
    return cus, sub


def _payment_intent_of(client, invoice_id):
    """Find an invoice's payment as billing will: invoices carry no payment_intent here."""
    payments = client.v1.invoice_payments.list(params={"invoice": invoice_id})
    return client.v1.payment_intents.retrieve(payments.data[0].payment.payment_intent)


def test_a_successful_payment_has_a_latest_charge(client, catalog):
    cus, sub = _paid_subscription(client, catalog, "charged@example.com")
    pi = _payment_intent_of(client, sub.latest_invoice)
    assert pi.status == "succeeded" and pi.latest_charge.startswith("ch_")
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert ch.object == "charge" and ch.status == "succeeded"
    assert ch.paid and ch.captured and ch.amount == ch.amount_captured == 900
    assert ch.amount_refunded == 0 and ch.refunded is False
    assert ch.customer == cus.id and ch.payment_intent == pi.id
    assert ch.payment_method == sub.default_payment_method
    assert ch.payment_method_details.card.last4 == "4242"
    assert ch.balance_transaction.startswith("txn_")
    assert [c.id for c in client.v1.charges.list(params={"customer": cus.id}).data] == [ch.id]
    by_pi = client.v1.charges.list(params={"payment_intent": pi.id})
    assert [c.id for c in by_pi.data] == [ch.id]
    expanded = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.id == ch.id
    assert "charge.succeeded" in [e.type for e in events_for(client, cus.id)]


def test_a_declined_payment_leaves_a_failed_charge(client, catalog):
    cus, sub = _paid_subscription(
        client, catalog, "declined@example.com", card="pm_card_chargeCustomerFail"
    )
    assert sub.status == "incomplete"
    pi = _payment_intent_of(client, sub.latest_invoice)
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert ch.status == "failed" and not ch.paid and ch.amount_captured == 0
    assert ch.failure_code == "card_declined" and ch.outcome.type == "issuer_declined"
    assert "charge.failed" in [e.type for e in events_for(client, cus.id)]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert exc.value.http_status == 400 and exc.value.param == "payment_intent"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"charge": ch.id})


def test_partial_then_full_refunds_and_refunding_too_much(client, catalog):
    cus, sub = _paid_subscription(client, catalog, "refund@example.com")
    pi = _payment_intent_of(client, sub.latest_invoice)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    err = exc.value.error
    assert exc.value.http_status == 400 and err.type == "invalid_request_error"
    assert err.param == "amount"
    assert err.message == "Refund amount ($10.00) is greater than charge amount ($9.00)"

    part = client.v1.refunds.create(
        params={
            "payment_intent": pi.id,
            "amount": 300,
            "reason": "requested_by_customer",
            "metadata": {"ticket": "T-1"},
        }
    )
    assert part.id.startswith("re_") and part.object == "refund"
    assert part.status == "succeeded" and part.amount == 300 and part.currency == "usd"
    assert part.charge == pi.latest_charge and part.payment_intent == pi.id
    assert part.reason == "requested_by_customer" and part.metadata["ticket"] == "T-1"
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert ch.amount_refunded == 300 and ch.refunded is False

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"charge": ch.id, "amount": 700})
    assert exc.value.error.param == "amount"
    assert exc.value.error.message == (
        "Refund amount ($7.00) is greater than unrefunded amount on charge ($6.00)"
    )

    rest = client.v1.refunds.create(params={"charge": ch.id})
    assert rest.amount == 600 and rest.reason is None
    ch = client.v1.charges.retrieve(ch.id)
    assert ch.amount_refunded == 900 and ch.refunded is True
    assert [r.id for r in ch.refunds.data] == [rest.id, part.id]

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"charge": ch.id, "amount": 1})
    assert exc.value.code == "charge_already_refunded"
    assert exc.value.error.message == f"Charge {ch.id} has already been refunded."

    listed = client.v1.refunds.list(params={"payment_intent": pi.id})
    assert [r.id for r in listed.data] == [rest.id, part.id]
    assert [r.id for r in client.v1.refunds.list(params={"charge": ch.id}).data] == [
        rest.id,
        part.id,
    ]
    assert client.v1.refunds.retrieve(part.id).amount == 300
    updated = client.v1.refunds.update(part.id, params={"metadata": {"note": "ok"}})
    assert updated.metadata.to_dict() == {"ticket": "T-1", "note": "ok"}

    events = events_for(client, cus.id)
    refunded = [e for e in events if e.type == "charge.refunded"]
    assert [e.data.object.amount_refunded for e in refunded] == [300, 900]
    assert refunded[0].data.previous_attributes["amount_refunded"] == 0
    assert [e.data.object.id for e in events if e.type == "refund.created"] == [part.id, rest.id]
    # A refund leaves the invoice paid and the subscription as it was.
    assert client.v1.invoices.retrieve(sub.latest_invoice).status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    status, _, html = http_request(ch.receipt_url)
    assert status == 200 and "Refunded $9.00" in html


def test_refund_requests_stripe_refuses(client, catalog):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create()
    assert exc.value.http_status == 400
    assert "payment_intent or charge" in exc.value.error.message
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": "pi_missing"})
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"charge": "ch_missing"})
    assert exc.value.http_status == 404 and exc.value.param == "charge"
    _, sub = _paid_subscription(client, catalog, "badrefund@example.com")
    pi = _payment_intent_of(client, sub.latest_invoice)
    for params in ({"amount": 0}, {"reason": "changed_my_mind"}):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.refunds.create(params={"payment_intent": pi.id, **params})
        assert exc.value.param == next(iter(params))
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.charges.retrieve("ch_missing")


def test_a_duplicate_subscription_is_cancelled_and_refunded_as_billing_will(client, catalog):
    """Two checkouts slipped through for one reader: cancel the newer one, refund its payment."""
    cus = client.v1.customers.create(params={"email": "twice@example.com"})
    for _ in range(2):
        cs = client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": cus.id,
                "success_url": "https://x.example/ok",
                "line_items": [{"price": catalog["monthly"].id, "quantity": 1}],
            }
        )
        assert http_request(cs.url, "POST", form={"card_number": "4242424242424242"})[0] == 303
    live = client.v1.subscriptions.list(params={"customer": cus.id, "status": "active"}).data
    assert len(live) == 2
    duplicate, keep = live  # newest first
    invoice = client.v1.invoices.retrieve(duplicate.latest_invoice)
    assert "payment_intent" not in invoice  # not on invoices in this API version
    pi_id = (
        client.v1.invoice_payments.list(params={"invoice": invoice.id})
        .data[0]
        .payment.payment_intent
    )
    canceled = client.v1.subscriptions.cancel(duplicate.id)
    assert canceled.status == "canceled"
    refund = client.v1.refunds.create(
        params={"payment_intent": pi_id, "reason": "duplicate"},
        options={"idempotency_key": f"refund-duplicate:{duplicate.id}"},
    )
    again = client.v1.refunds.create(
        params={"payment_intent": pi_id, "reason": "duplicate"},
        options={"idempotency_key": f"refund-duplicate:{duplicate.id}"},
    )
    assert again.id == refund.id and refund.amount == 900 and refund.status == "succeeded"
    assert client.v1.charges.retrieve(refund.charge).refunded is True
    remaining = client.v1.subscriptions.list(params={"customer": cus.id}).data
    assert [s.id for s in remaining] == [keep.id]
    other_pi = _payment_intent_of(client, keep.latest_invoice)
    assert client.v1.charges.retrieve(other_pi.latest_charge).amount_refunded == 0
