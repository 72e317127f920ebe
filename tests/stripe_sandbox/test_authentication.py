"""Card 3184: off-session renewals wait for the customer's authentication on the hosted
invoice page, which completes or fails it; and paying an open invoice there with a card."""

from __future__ import annotations

import re

from .conftest import advance, events_for, http_request

DAY = 86400
T0 = 1_910_000_000


def _renewal_needing_authentication(client, catalog, email):
    """A trial on 3184 that ends: the first charge waits for authentication."""
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    cus = client.v1.customers.create(params={"email": email, "test_clock": clock.id})
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
    return clock, cus, sub, sub.latest_invoice


def _buttons(html):
    """Return {label: value} of the page's submit buttons named ``action``."""
    found = re.findall(r"name='action' value='(\w+)'>([^<]+)</button>", html)
    return {label: value for value, label in found}


def _pi(client, invoice_id):
    pay = client.v1.invoice_payments.list(params={"invoice": invoice_id}).data[0]
    return client.v1.payment_intents.retrieve(pay.payment.payment_intent)


def test_completing_authentication_on_the_hosted_page_pays_the_invoice(client, catalog):
    clock, cus, sub, inv = _renewal_needing_authentication(client, catalog, "3ds-ok@example.com")
    assert sub.status == "past_due" and inv.status == "open"
    assert inv.hosted_invoice_url.startswith("http://127.0.0.1:")
    pi = _pi(client, inv.id)
    assert pi.status == "requires_action" and pi.next_action.type == "use_stripe_sdk"
    assert pi.latest_charge is None
    types = [e.type for e in events_for(client, sub.id, since=T0)]
    assert "invoice.payment_action_required" in types

    status, _, html = http_request(inv.hosted_invoice_url)
    assert status == 200 and "$9.00" in html and "ending in 3184" in html
    buttons = _buttons(html)
    assert set(buttons) == {"Complete authentication", "Fail authentication"}
    status, headers, _ = http_request(
        inv.hosted_invoice_url, "POST", form={"action": buttons["Complete authentication"]}
    )
    assert status == 303 and headers["location"].startswith(inv.hosted_invoice_url)
    status, _, html = http_request(headers["location"])
    assert "Payment complete" in html and "paid" in html

    inv = client.v1.invoices.retrieve(inv.id)
    assert inv.status == "paid" and inv.amount_paid == 900 and inv.next_payment_attempt is None
    pi = _pi(client, inv.id)
    assert pi.status == "succeeded" and pi.next_action is None
    assert client.v1.charges.retrieve(pi.latest_charge).status == "succeeded"
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active"
    events = events_for(client, cus.id, since=T0)
    after = [e.type for e in events][
        [e.type for e in events].index("invoice.payment_action_required") :
    ]
    for expected in (
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "customer.subscription.updated",
    ):
        assert expected in after, expected
    back = [e for e in events if e.type == "customer.subscription.updated"][-1]
    assert back.data.object.status == "active"
    assert back.data.previous_attributes["status"] == "past_due"
    assert not client.v1.customers.retrieve(cus.id).delinquent
    # Nothing to authenticate any more: the page shows the invoice as paid.
    again = http_request(
        inv.hosted_invoice_url, "POST", form={"action": "complete_authentication"}
    )[1]["location"]
    assert "does+not+need+authentication" in again
    # 3184 asks on every off-session payment: the next renewal waits again.
    advance(client, clock.id, sub["items"].data[0].current_period_end + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"


def test_failing_authentication_leaves_the_invoice_open_and_the_subscription_past_due(
    client, catalog
):
    _, cus, sub, inv = _renewal_needing_authentication(client, catalog, "3ds-no@example.com")
    buttons = _buttons(http_request(inv.hosted_invoice_url)[2])
    status, headers, _ = http_request(
        inv.hosted_invoice_url, "POST", form={"action": buttons["Fail authentication"]}
    )
    assert status == 303
    html = http_request(headers["location"])[2]
    assert "Authentication failed" in html and "name='card_number'" in html
    inv = client.v1.invoices.retrieve(inv.id)
    assert inv.status == "open" and inv.next_payment_attempt == T0 + 6 * DAY
    pi = _pi(client, inv.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "payment_intent_authentication_failure"
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    types = [e.type for e in events_for(client, cus.id, since=T0)]
    assert types[-2:] == ["payment_intent.payment_failed", "invoice.payment_failed"]

    # The customer tries again with the same card: it asks again, and this time passes.
    status, headers, _ = http_request(
        inv.hosted_invoice_url, "POST", form={"action": "pay", "card_number": "4000 0027 6000 3184"}
    )
    html = http_request(headers["location"])[2]
    assert set(_buttons(html)) == {"Complete authentication", "Fail authentication"}
    http_request(inv.hosted_invoice_url, "POST", form={"action": "complete_authentication"})
    assert client.v1.invoices.retrieve(inv.id).status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_a_new_subscription_on_3184_is_incomplete_until_authenticated(client, catalog):
    cus = client.v1.customers.create(params={"email": "3ds-new@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_authenticationRequired",
            "expand": ["latest_invoice"],
        }
    )
    assert sub.status == "incomplete" and sub.latest_invoice.status == "open"
    http_request(
        sub.latest_invoice.hosted_invoice_url, "POST", form={"action": "complete_authentication"}
    )
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_an_open_invoice_is_paid_on_its_page_with_another_card(client, catalog):
    cus = client.v1.customers.create(params={"email": "repay@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_chargeCustomerFail",
            "expand": ["latest_invoice"],
        }
    )
    url = sub.latest_invoice.hosted_invoice_url
    for number, shown in (
        ("4000000000000002", "Your card was declined."),
        ("1234", "Your card number is invalid."),
    ):
        status, headers, _ = http_request(
            url, "POST", form={"action": "pay", "card_number": number}
        )
        assert status == 303
        assert shown in http_request(headers["location"])[2]
    assert client.v1.invoices.retrieve(sub.latest_invoice.id).status == "open"
    status, headers, _ = http_request(
        url, "POST", form={"action": "pay", "card_number": "4242424242424242"}
    )
    html = http_request(headers["location"])[2]
    assert "Payment complete" in html and "View receipt" in html
    assert client.v1.invoices.retrieve(sub.latest_invoice.id).status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert http_request(f"{url}x")[0] == 404
