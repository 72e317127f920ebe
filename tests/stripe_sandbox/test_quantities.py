"""Seats at the sandbox through the SDK: Checkout line items with an adjustable quantity
(checked as Stripe checks them, changed on the hosted page within their bounds) and
quantity updates in the Customer Portal, bounded by its configuration."""

from __future__ import annotations

import pytest
import stripe

from .conftest import http_request

SUCCESS = "https://masthead.example/billing/success?session_id={CHECKOUT_SESSION_ID}"


def _session(client, catalog, quantity=2, adjustable=None):
    line = {"price": catalog["monthly"].id, "quantity": quantity}
    if adjustable is not None:
        line["adjustable_quantity"] = adjustable
    return client.v1.checkout.sessions.create(
        params={"mode": "subscription", "success_url": SUCCESS, "line_items": [line]}
    )


@pytest.mark.parametrize(
    ("quantity", "adjustable", "param"),
    [
        (7, {"enabled": True, "minimum": 2, "maximum": 6}, "line_items[0][quantity]"),
        (1, {"enabled": True, "minimum": 2, "maximum": 6}, "line_items[0][quantity]"),
        (2, {"minimum": 2, "maximum": 6}, "line_items[0][adjustable_quantity][enabled]"),
        (2, {"enabled": True, "maximum": 1000000}, "line_items[0][adjustable_quantity][maximum]"),
        (
            2,
            {"enabled": True, "minimum": 5, "maximum": 3},
            "line_items[0][adjustable_quantity][minimum]",
        ),
    ],
)
def test_an_adjustable_quantity_out_of_bounds_is_refused(
    client, catalog, quantity, adjustable, param
):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(client, catalog, quantity, adjustable)

    assert exc.value.http_status == 400
    assert exc.value.param == param


def test_the_hosted_page_changes_the_quantity_within_the_bounds(client, catalog):
    cs = _session(client, catalog, 2, {"enabled": True, "minimum": 2, "maximum": 6})
    status, _, page = http_request(cs.url)
    assert status == 200 and "name='quantity_0'" in page and "min='2'" in page

    status, _, page = http_request(
        cs.url, "POST", form={"card_number": "4242424242424242", "quantity_0": "9"}
    )
    assert status == 402 and "Choose between 2 and 6" in page

    status, _, _ = http_request(
        cs.url,
        "POST",
        form={"card_number": "4242424242424242", "quantity_0": "5", "email": "s@example.com"},
    )
    assert status == 303
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.amount_total == 5 * 900
    items = client.v1.checkout.sessions.line_items.list(cs.id)
    assert items.data[0].quantity == 5
    sub = client.v1.subscriptions.retrieve(done.subscription)
    assert sub["items"].data[0].quantity == 5


def test_the_portal_updates_the_quantity_within_its_configuration(client, catalog):
    product = client.v1.prices.retrieve(catalog["monthly"].id).product
    conf = client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price", "quantity"],
                    "products": [
                        {
                            "product": product,
                            "prices": [catalog["monthly"].id],
                            "adjustable_quantity": {"enabled": True, "minimum": 2, "maximum": 6},
                        }
                    ],
                }
            }
        }
    )
    listed = conf.features.subscription_update.products[0]
    assert listed.adjustable_quantity.maximum == 6
    cus = client.v1.customers.create(params={"email": "seats@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id, "quantity": 3}],
            "default_payment_method": "pm_card_visa",
        }
    )
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": cus.id, "configuration": conf.id, "return_url": SUCCESS}
    )
    form = {"action": "quantity", "subscription": sub.id}

    _, headers, _ = http_request(portal.url, "POST", form={**form, "quantity": "7"})
    _, _, page = http_request(headers["location"])
    assert "Choose between 2 and 6" in page
    _, headers, _ = http_request(portal.url, "POST", form={**form, "quantity": "4"})

    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].quantity == 4
    events = client.v1.events.list(params={"type": "customer.subscription.updated"})
    changed = [e for e in events.data if e.data.object.id == sub.id]
    assert changed and "items" in changed[0].data.previous_attributes
