"""Whole lifecycles on test clocks: trials, renewals, failed payments, retries, the end."""

from __future__ import annotations

import pytest
import stripe

from .conftest import advance, events_for, http_request, wait_until

DAY = 86400
T0 = 1_900_000_000


def _clocked_customer(client, frozen=T0, email="clock@example.com"):
    clock = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": frozen, "name": "lifecycle"}
    )
    cus = client.v1.customers.create(params={"email": email, "test_clock": clock.id})
    return clock, cus


def test_a_whole_lifecycle_from_checkout_to_cancellation(client, catalog):
    clock, cus = _clocked_customer(client)
    assert clock.id.startswith("clock_") and clock.status == "ready"
    assert cus.test_clock == clock.id and cus.created == T0
    # Checkout with 4242 and a 14-day trial, through the hosted page.
    cs = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": cus.id,
            "line_items": [{"price": catalog["monthly"].id, "quantity": 1}],
            "subscription_data": {"trial_period_days": 14},
            "success_url": "https://masthead.example/ok?cs={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://masthead.example/no",
        }
    )
    status, headers, _ = http_request(cs.url, "POST", form={"card_number": "4242424242424242"})
    assert status == 303 and cs.id in headers["location"]
    sub_id = client.v1.checkout.sessions.retrieve(cs.id).subscription
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert sub.status == "trialing" and sub.trial_end == T0 + 14 * DAY
    assert sub.test_clock == clock.id

    # Three days before the trial ends: trial_will_end.
    advance(client, clock.id, T0 + 11 * DAY + 60)
    assert "customer.subscription.trial_will_end" in [e.type for e in events_for(client, sub_id)]
    assert client.v1.subscriptions.retrieve(sub_id).status == "trialing"

    # The trial ends: first charge, active.
    advance(client, clock.id, T0 + 14 * DAY + 60)
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert sub.status == "active"
    first = client.v1.invoices.retrieve(sub.latest_invoice)
    assert first.status == "paid" and first.amount_paid == 900
    assert first.billing_reason == "subscription_cycle"
    period_end = sub["items"].data[0].current_period_end

    # Two renewals.
    for _ in range(2):
        advance(client, clock.id, period_end + 60)
        sub = client.v1.subscriptions.retrieve(sub_id)
        assert sub.status == "active"
        assert sub["items"].data[0].current_period_start == period_end
        period_end = sub["items"].data[0].current_period_end
    paid = client.v1.invoices.list(params={"subscription": sub_id, "status": "paid"})
    assert [i.amount_paid for i in paid.data] == [900, 900, 900, 0]

    # The card is replaced by 0341 in the portal; the next renewal fails.
    portal = client.v1.billing_portal.sessions.create(params={"customer": cus.id})
    http_request(
        portal.url, "POST", form={"action": "update_card", "card_number": "4000000000000341"}
    )
    advance(client, clock.id, period_end + 60)
    sub = client.v1.subscriptions.retrieve(sub_id, params={"expand": ["latest_invoice"]})
    assert sub.status == "past_due"
    failing = sub.latest_invoice
    assert failing.status == "open" and failing.attempt_count == 1
    assert failing.next_payment_attempt == period_end + 3 * DAY

    # Retries on days 3, 5 and 7 fail too; then the subscription is canceled.
    for day, attempts in ((3, 2), (5, 3)):
        advance(client, clock.id, period_end + day * DAY + 60)
        inv = client.v1.invoices.retrieve(failing.id)
        assert inv.attempt_count == attempts
        assert client.v1.subscriptions.retrieve(sub_id).status == "past_due"
    advance(client, clock.id, period_end + 7 * DAY + 60)
    assert client.v1.invoices.retrieve(failing.id).attempt_count == 4
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert sub.status == "canceled" and sub.cancellation_details.reason == "payment_failed"

    events = events_for(client, sub_id, since=T0)
    types = [e.type for e in events]
    for expected in (
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.deleted",
    ):
        assert expected in types, expected
    assert types.index("customer.subscription.trial_will_end") < types.index("invoice.paid", 5)
    assert types[-1] == "customer.subscription.deleted"
    to_past_due = [
        e
        for e in events
        if e.type == "customer.subscription.updated" and e.data.object.status == "past_due"
    ]
    assert to_past_due[0].data.previous_attributes["status"] == "active"
    trial_over = [
        e
        for e in events
        if e.type == "customer.subscription.updated"
        and e.data.previous_attributes.to_dict().get("status") == "trialing"
    ]
    assert trial_over[0].data.object.status == "active"
    assert trial_over[0].created == T0 + 14 * DAY  # events carry the clock's time
    pi_types = {
        e.type for e in events_for(client, cus.id, since=T0) if e.type.startswith("payment_intent.")
    }
    assert {"payment_intent.succeeded", "payment_intent.payment_failed"} <= pi_types


def test_after_the_last_retry_the_subscription_can_be_left_unpaid(make_sandbox):
    sbx = make_sandbox("--after-retries", "unpaid", "--payment-retry-days", "1,2")
    client = sbx.client()
    prod = client.v1.products.create(params={"name": "Weekly"})
    price = client.v1.prices.create(
        params={
            "product": prod.id,
            "unit_amount": 300,
            "currency": "eur",
            "recurring": {"interval": "month"},
        }
    )
    clock, cus = _clocked_customer(client)
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": price.id}],
            "trial_period_days": 5,
            "default_payment_method": "pm_card_chargeCustomerFail",
        }
    )
    advance(client, clock.id, T0 + 5 * DAY + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    advance(client, clock.id, T0 + 6 * DAY + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    advance(client, clock.id, T0 + 7 * DAY + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "unpaid"
    inv = client.v1.invoices.list(params={"subscription": sub.id, "status": "open"}).data[0]
    assert inv.attempt_count == 3 and inv.next_payment_attempt is None


def test_a_card_needing_authentication_asks_for_it_on_renewal(client, catalog):
    clock, cus = _clocked_customer(client, email="3ds@example.com")
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "trial_period_days": 3,
            "default_payment_method": "pm_card_authenticationRequired",
        }
    )
    advance(client, clock.id, T0 + 3 * DAY + 60)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "past_due"
    types = [e.type for e in events_for(client, sub.id, since=T0)]
    assert "invoice.payment_action_required" in types
    pi = client.v1.payment_intents.list(params={"customer": cus.id}).data[0]
    assert pi.status == "requires_action"


def test_cancel_at_period_end_ends_the_subscription_when_the_clock_gets_there(client, catalog):
    clock, cus = _clocked_customer(client, email="leaver@example.com")
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_visa",
        }
    )
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    advance(client, clock.id, sub.cancel_at - 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    advance(client, clock.id, sub.cancel_at + 60)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled" and ended.ended_at == sub.cancel_at
    assert len(client.v1.invoices.list(params={"subscription": sub.id}).data) == 1


def test_a_clock_moves_at_most_two_intervals_and_advances_asynchronously(client, catalog):
    clock, cus = _clocked_customer(client, email="far@example.com")
    client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_visa",
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 70 * DAY})
    assert exc.value.param == "frozen_time"
    moving = client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": T0 + 40 * DAY}
    )
    assert moving.status == "advancing"
    wait_until(
        lambda: client.v1.test_helpers.test_clocks.retrieve(clock.id).status == "ready", timeout=30
    )
    ready = advance(client, clock.id, T0 + 41 * DAY)
    assert ready.frozen_time == T0 + 41 * DAY
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0})
    gone = client.v1.test_helpers.test_clocks.delete(clock.id)
    assert gone.deleted is True
    assert client.v1.customers.retrieve(cus.id).deleted is True


def test_an_incomplete_subscription_expires_after_23_hours(client, catalog):
    clock, cus = _clocked_customer(client, email="expire@example.com")
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_chargeCustomerFail",
        }
    )
    assert sub.status == "incomplete"
    advance(client, clock.id, T0 + DAY)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "incomplete_expired" and sub.latest_invoice.status == "void"


def test_a_trial_ending_without_a_card_pauses_and_resumes(client, catalog):
    clock, cus = _clocked_customer(client, email="nocard@example.com")
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "trial_period_days": 7,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
        }
    )
    assert sub.status == "trialing" and sub.default_payment_method is None
    advance(client, clock.id, T0 + 7 * DAY + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "paused"
    assert "customer.subscription.paused" in [e.type for e in events_for(client, sub.id)]
    client.v1.customers.update(
        cus.id, params={"invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )
    resumed = client.v1.subscriptions.resume(sub.id)
    assert resumed.status == "active"
    assert resumed.billing_cycle_anchor == T0 + 7 * DAY + 60
    assert client.v1.invoices.retrieve(resumed.latest_invoice).amount_paid == 900
