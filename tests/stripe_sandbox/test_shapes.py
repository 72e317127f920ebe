"""Every object type has exactly the keys of Stripe's own example in the fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import advance, http_request

# A copy of ../shared/stripe/fixtures.json (from stripe/openapi, MIT licence).
FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "stripe_fixtures.json").read_text())[
    "resources"
]


def keys(obj) -> set[str]:
    return set(obj.to_dict() if hasattr(obj, "to_dict") else obj)


@pytest.fixture(scope="module")
def objects(sandbox, tmp_path_factory):
    """One object of each type, as the sandbox returns them."""
    client = sandbox.client()
    got: dict[str, list] = {}

    def add(kind, obj):
        got.setdefault(kind, []).append(obj)
        return obj

    prod = add("product", client.v1.products.create(params={"name": "Shapes"}))
    price = add(
        "price",
        client.v1.prices.create(
            params={
                "product": prod.id,
                "unit_amount": 500,
                "currency": "usd",
                "recurring": {"interval": "month"},
            }
        ),
    )
    clock = add(
        "test_helpers.test_clock",
        client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_950_000_000}),
    )
    cus = add(
        "customer",
        client.v1.customers.create(params={"email": "shape@example.com", "test_clock": clock.id}),
    )
    we = client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]}
    )
    assert keys(we) == set(FIXTURES["webhook_endpoint"]) | {"secret"}
    add("webhook_endpoint", client.v1.webhook_endpoints.retrieve(we.id))
    client.v1.webhook_endpoints.delete(we.id)
    cs = add(
        "checkout.session",
        client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": cus.id,
                "success_url": "https://x.example/s",
                "line_items": [{"price": price.id, "quantity": 1}],
            }
        ),
    )
    http_request(cs.url, "POST", form={"card_number": "4242424242424242"})
    add("checkout.session", client.v1.checkout.sessions.retrieve(cs.id))
    sub_id = client.v1.checkout.sessions.retrieve(cs.id).subscription
    sub = add("subscription", client.v1.subscriptions.retrieve(sub_id))
    add("subscription_item", sub["items"].data[0])
    add("subscription_item", client.v1.subscription_items.retrieve(sub["items"].data[0].id))
    advance(client, clock.id, sub["items"].data[0].current_period_end + 60)
    for inv in client.v1.invoices.list(params={"customer": cus.id}).data:
        add("invoice", inv)
        for line in inv.lines.data:
            add("line_item", line)
    add(
        "line_item",
        client.v1.invoices.list_lines(inv.id).data[0]
        if hasattr(client.v1.invoices, "list_lines")
        else client.v1.invoices.line_items.list(inv.id).data[0],
    )
    for pi in client.v1.payment_intents.list(params={"customer": cus.id}).data:
        add("payment_intent", pi)
    charge = add("charge", client.v1.charges.retrieve(pi.latest_charge))
    add("refund", client.v1.refunds.create(params={"charge": charge.id, "amount": 100}))
    add("charge", client.v1.charges.list(params={"customer": cus.id}).data[0])
    coupon = add(
        "coupon", client.v1.coupons.create(params={"percent_off": 10, "duration": "forever"})
    )
    add("coupon", client.v1.coupons.retrieve(coupon.id))
    promo = add(
        "promotion_code",
        client.v1.promotion_codes.create(
            params={"promotion": {"type": "coupon", "coupon": coupon.id}}
        ),
    )
    add("promotion_code", client.v1.promotion_codes.retrieve(promo.id))
    discounted = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": price.id}],
            "default_payment_method": "pm_card_visa",
            "discounts": [{"promotion_code": promo.id}],
            "expand": ["discounts", "latest_invoice"],
        }
    )
    add("discount", discounted.discounts[0])
    add("invoice", discounted.latest_invoice)
    add("subscription", discounted)
    for ip in client.v1.invoice_payments.list(params={"invoice": inv.id}).data:
        add("invoice_payment", ip)
    add("payment_method", client.v1.payment_methods.retrieve(sub.default_payment_method))
    add(
        "billing_portal.session",
        client.v1.billing_portal.sessions.create(params={"customer": cus.id}),
    )
    add("billing_portal.configuration", client.v1.billing_portal.configurations.list().data[0])
    for evt in client.v1.events.list(params={"limit": 100}).data:
        add("event", evt)
        kind = evt.data.object.object
        if (kind in FIXTURES and kind != "customer") or evt.type == "customer.created":
            add(kind, evt.data.object)
    other = client.v1.customers.create(params={"email": "deleted@example.com"})
    add("deleted_customer", client.v1.customers.delete(other.id))
    return got


@pytest.mark.parametrize(
    "kind",
    [
        "customer",
        "deleted_customer",
        "product",
        "price",
        "checkout.session",
        "billing_portal.session",
        "billing_portal.configuration",
        "subscription",
        "subscription_item",
        "invoice",
        "line_item",
        "payment_intent",
        "payment_method",
        "invoice_payment",
        "event",
        "webhook_endpoint",
        "test_helpers.test_clock",
        "charge",
        "refund",
        "coupon",
        "promotion_code",
        "discount",
    ],
)
def test_objects_have_exactly_the_keys_of_stripes_example(objects, kind):
    assert objects.get(kind), f"no {kind} was returned"
    expected = set(FIXTURES[kind])
    for obj in objects[kind]:
        assert keys(obj) == expected, (kind, keys(obj) ^ expected)


def test_ids_carry_stripes_prefixes(objects):
    prefixes = {
        "customer": "cus_",
        "product": "prod_",
        "price": "price_",
        "checkout.session": "cs_test_",
        "subscription": "sub_",
        "subscription_item": "si_",
        "invoice": "in_",
        "payment_intent": "pi_",
        "event": "evt_",
        "webhook_endpoint": "we_",
        "test_helpers.test_clock": "clock_",
        "billing_portal.session": "bps_",
        "payment_method": "pm_",
        "line_item": "il_",
        "charge": "ch_",
        "refund": "re_",
        "promotion_code": "promo_",
        "discount": "di_",
    }
    for kind, prefix in prefixes.items():
        assert all(o.id.startswith(prefix) for o in objects[kind]), kind
