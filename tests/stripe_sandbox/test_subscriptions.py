"""Subscriptions through the API: create, update, price switch, cancel, list; invoices."""

from __future__ import annotations

import pytest
import stripe

from .conftest import advance


def _customer(client, email="sub@example.com", **extra):
    return client.v1.customers.create(params={"email": email, **extra})


def _subscribe(client, catalog, cus, price="monthly", **extra):
    return client.v1.subscriptions.create(
        params={"customer": cus.id, "items": [{"price": catalog[price].id}], **extra}
    )


def test_a_paid_subscription_is_active_with_periods_on_its_items(client, catalog):
    cus = _customer(client)
    sub = _subscribe(
        client,
        catalog,
        cus,
        default_payment_method="pm_card_visa",
        metadata={"user_id": "9"},
        expand=["latest_invoice"],
    )
    assert sub.id.startswith("sub_") and sub.status == "active"
    item = sub["items"].data[0]
    assert item.id.startswith("si_") and item.price.id == catalog["monthly"].id
    assert item.current_period_end > item.current_period_start
    assert "current_period_end" not in sub  # moved to the items in 2025-03-31
    assert sub.billing_mode.type == "flexible"
    assert sub.latest_invoice.status == "paid" and sub.latest_invoice.amount_paid == 900
    assert sub.latest_invoice.billing_reason == "subscription_create"
    assert sub.metadata["user_id"] == "9"
    pis = client.v1.payment_intents.list(params={"customer": cus.id})
    assert [p.status for p in pis.data] == ["succeeded"]
    assert client.v1.payment_intents.retrieve(pis.data[0].id).amount == 900


def test_a_trial_subscription_is_trialing_with_a_zero_invoice(client, catalog):
    cus = _customer(client)
    sub = _subscribe(
        client, catalog, cus, trial_period_days=14, default_payment_method="pm_card_visa"
    )
    assert sub.status == "trialing"
    assert sub.trial_end - sub.trial_start == 14 * 86400
    assert sub["items"].data[0].current_period_end == sub.trial_end
    inv = client.v1.invoices.retrieve(sub.latest_invoice)
    assert inv.amount_due == 0 and inv.status == "paid"


def test_a_card_that_fails_leaves_the_first_payment_incomplete(client, catalog):
    cus = _customer(client)
    sub = _subscribe(client, catalog, cus, default_payment_method="pm_card_chargeCustomerFail")
    assert sub.status == "incomplete"
    inv = client.v1.invoices.retrieve(sub.latest_invoice)
    assert inv.status == "open" and inv.attempt_count == 1
    with pytest.raises(stripe.CardError) as exc:
        client.v1.invoices.pay(inv.id)
    assert exc.value.error.decline_code == "generic_decline"
    assert client.v1.invoices.retrieve(inv.id).attempt_count == 2  # the attempt is recorded
    paid = client.v1.invoices.pay(inv.id, params={"payment_method": "pm_card_visa"})
    assert paid.status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_error_if_incomplete_answers_402_and_creates_nothing(client, catalog):
    cus = _customer(client, email="strict@example.com")
    with pytest.raises(stripe.CardError):
        _subscribe(
            client,
            catalog,
            cus,
            default_payment_method="pm_card_chargeCustomerFail",
            payment_behavior="error_if_incomplete",
        )
    assert client.v1.subscriptions.list(params={"customer": cus.id, "status": "all"}).data == []


def test_cancel_at_period_end_sets_cancel_at_and_can_be_undone(client, catalog):
    cus = _customer(client)
    sub = _subscribe(client, catalog, cus, default_payment_method="pm_card_visa")
    end = sub["items"].data[0].current_period_end
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert sub.cancel_at == end and sub.cancel_at_period_end is True
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at": ""})
    assert sub.cancel_at is None and sub.cancel_at_period_end is False
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at": end - 3600})
    assert sub.cancel_at == end - 3600
    evt = next(
        e
        for e in client.v1.events.list(params={"type": "customer.subscription.updated"}).data
        if e.data.object.id == sub.id
    )
    assert evt.data.previous_attributes["cancel_at"] is None


def test_switching_price_with_always_invoice_bills_the_proration_now(client, catalog):
    cus = _customer(client)
    sub = _subscribe(client, catalog, cus, default_payment_method="pm_card_visa")
    item = sub["items"].data[0]
    sub = client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": item.id, "price": catalog["premium"].id}],
            "proration_behavior": "always_invoice",
            "expand": ["latest_invoice"],
        },
    )
    assert sub["items"].data[0].price.id == catalog["premium"].id
    assert sub["items"].data[0].id == item.id
    inv = client.v1.invoices.retrieve(sub.latest_invoice.id)
    assert inv.billing_reason == "subscription_update" and inv.status == "paid"
    amounts = sorted(line.amount for line in inv.lines.data)
    assert amounts[0] < 0 < amounts[1]  # credit for the old price, charge for the new
    assert 0 < inv.amount_paid <= 600
    evt = next(
        e
        for e in client.v1.events.list(params={"type": "customer.subscription.updated"}).data
        if e.data.object.id == sub.id
    )
    assert evt.data.previous_attributes["items"]["data"][0]["price"]["id"] == catalog["monthly"].id


def test_prorations_wait_for_the_next_invoice_with_create_prorations(client, catalog):
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_800_000_000})
    cus = _customer(client, test_clock=clock.id)
    sub = _subscribe(client, catalog, cus, default_payment_method="pm_card_visa")
    advance(client, clock.id, 1_800_000_000 + 10 * 86400)
    client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "price": catalog["premium"].id}]}
    )
    assert (
        client.v1.invoices.list(params={"subscription": sub.id}).data[0].id == sub.latest_invoice
    )  # nothing billed yet
    end = sub["items"].data[0].current_period_end
    advance(client, clock.id, end + 60)
    renewal = client.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert renewal.billing_reason == "subscription_cycle"
    lines = renewal.lines.data
    assert len(lines) == 3 and sum(1 for li in lines if li.amount < 0) == 1
    assert renewal.amount_paid == sum(li.amount for li in lines)


def test_a_new_interval_restarts_the_cycle_and_is_invoiced_at_once(client, catalog):
    cus = _customer(client)
    sub = _subscribe(client, catalog, cus, default_payment_method="pm_card_visa")
    sub = client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "price": catalog["yearly"].id}]}
    )
    item = sub["items"].data[0]
    assert item.current_period_end - item.current_period_start >= 365 * 86400
    inv = client.v1.invoices.retrieve(sub.latest_invoice)
    assert inv.status == "paid" and 8100 <= inv.amount_paid <= 9000


def test_cancel_ends_it_and_lists_hide_canceled_unless_asked(client, catalog):
    cus = _customer(client)
    keep = _subscribe(client, catalog, cus, default_payment_method="pm_card_visa")
    gone = _subscribe(client, catalog, cus, price="premium", default_payment_method="pm_card_visa")
    ended = client.v1.subscriptions.cancel(gone.id)
    assert ended.status == "canceled" and ended.ended_at and ended.canceled_at
    default = client.v1.subscriptions.list(params={"customer": cus.id})
    assert [s.id for s in default.data] == [keep.id]
    every = client.v1.subscriptions.list(params={"customer": cus.id, "status": "all"})
    assert {s.id for s in every.data} == {keep.id, gone.id}
    canceled = client.v1.subscriptions.list(params={"customer": cus.id, "status": "canceled"})
    assert [s.id for s in canceled.data] == [gone.id]
    by_price = client.v1.subscriptions.list(
        params={"price": catalog["premium"].id, "status": "all", "limit": 100}
    )
    assert gone.id in {s.id for s in by_price.data} and keep.id not in {s.id for s in by_price.data}
    deleted = [
        e
        for e in client.v1.events.list(params={"type": "customer.subscription.deleted"}).data
        if e.data.object.id == gone.id
    ]
    assert deleted[0].data.object.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(gone.id, params={"cancel_at_period_end": True})


def test_trial_end_now_and_default_payment_method_update(client, catalog):
    cus = _customer(client)
    sub = _subscribe(client, catalog, cus, trial_period_days=30)
    sub = client.v1.subscriptions.update(sub.id, params={"default_payment_method": "pm_card_visa"})
    assert sub.default_payment_method.startswith("pm_")
    sub = client.v1.subscriptions.update(sub.id, params={"trial_end": "now"})
    assert sub.status == "active"
    assert client.v1.invoices.retrieve(sub.latest_invoice).amount_paid == 900
    items = client.v1.subscription_items.list(params={"subscription": sub.id})
    assert items.data[0].subscription == sub.id


def test_invoices_are_listed_by_customer_and_status(client, catalog):
    cus = _customer(client, email="inv@example.com")
    sub = _subscribe(client, catalog, cus, default_payment_method="pm_card_visa")
    invs = client.v1.invoices.list(params={"customer": cus.id})
    assert [i.id for i in invs.data] == [sub.latest_invoice]
    assert invs.data[0].id.startswith("in_") and invs.data[0].number
    assert client.v1.invoices.list(params={"customer": cus.id, "status": "open"}).data == []
    paid = client.v1.invoice_payments.list(params={"invoice": sub.latest_invoice})
    assert paid.data[0].payment.payment_intent.startswith("pi_")


def test_events_of_a_paid_creation_come_in_stripes_order(client, catalog):
    from .conftest import events_for

    cus = _customer(client, email="order@example.com")
    sub = _subscribe(client, catalog, cus, default_payment_method="pm_card_visa")
    events = events_for(client, cus.id)
    types = [
        e.type for e in events if not e.type.startswith(("customer.created", "payment_method."))
    ]
    assert types == [
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    assert events[-1].data.object.id == sub.id
    assert events[-1].data.previous_attributes["status"] == "incomplete"
    assert all(e.request.idempotency_key for e in events)


def test_ending_a_trial_early_moves_the_billing_cycle_anchor_to_now(client, catalog):
    cus = _customer(client, email="early@example.com")
    sub = _subscribe(
        client, catalog, cus, trial_period_days=30, default_payment_method="pm_card_visa"
    )
    trial_end = sub.trial_end
    assert sub.billing_cycle_anchor == trial_end

    sub = client.v1.subscriptions.update(sub.id, params={"trial_end": "now"})

    item = sub["items"].data[0]
    assert sub.status == "active" and sub.trial_end < trial_end
    assert sub.billing_cycle_anchor == item.current_period_start == sub.trial_end
    # A month from now, not the old trial end: the paid period starts at the anchor.
    assert 28 * 86400 <= item.current_period_end - item.current_period_start <= 31 * 86400
    assert item.current_period_end != trial_end
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.amount_paid == 900
