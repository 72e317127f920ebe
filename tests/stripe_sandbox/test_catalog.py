"""Products and prices: create, update, list by product, active and lookup_keys; their events."""

from __future__ import annotations

import uuid

import pytest
import stripe


def test_recurring_prices_are_created_monthly_and_yearly_in_minor_units(client, catalog):
    monthly, yearly = catalog["monthly"], catalog["yearly"]
    assert monthly.id.startswith("price_") and monthly.unit_amount == 900
    assert monthly.recurring.interval == "month" and yearly.recurring.interval == "year"
    assert monthly.type == "recurring" and monthly.product == catalog["product"].id


def test_prices_are_listed_by_product_active_and_lookup_keys(client, catalog):
    key = f"monthly-{uuid.uuid4().hex}"
    client.v1.prices.update(catalog["monthly"].id, params={"lookup_key": key})
    found = client.v1.prices.list(params={"lookup_keys": [key]})
    assert [p.id for p in found.data] == [catalog["monthly"].id]
    client.v1.prices.update(catalog["yearly"].id, params={"active": False})
    active = client.v1.prices.list(params={"product": catalog["product"].id, "active": True})
    assert catalog["yearly"].id not in {p.id for p in active.data}
    assert catalog["monthly"].id in {p.id for p in active.data}
    every = client.v1.prices.list(params={"product": catalog["product"].id})
    assert len(every.data) == 3


def test_a_lookup_key_moves_only_with_transfer_lookup_key(client, catalog):
    key = f"plan-{uuid.uuid4().hex}"
    client.v1.prices.update(catalog["monthly"].id, params={"lookup_key": key})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create(
            params={
                "product": catalog["product"].id,
                "unit_amount": 1,
                "currency": "usd",
                "lookup_key": key,
            }
        )
    assert exc.value.param == "lookup_key"
    moved = client.v1.prices.create(
        params={
            "product": catalog["product"].id,
            "unit_amount": 1,
            "currency": "usd",
            "lookup_key": key,
            "transfer_lookup_key": True,
            "recurring": {"interval": "month"},
        }
    )
    assert [p.id for p in client.v1.prices.list(params={"lookup_keys": [key]}).data] == [moved.id]


def test_product_and_price_changes_emit_events_with_previous_attributes(client, catalog):
    client.v1.products.update(catalog["product"].id, params={"name": "Masthead Plus"})
    client.v1.prices.update(catalog["premium"].id, params={"active": False})
    product_events = [
        e
        for e in client.v1.events.list(params={"type": "product.*"}).data
        if e.data.object.id == catalog["product"].id
    ]
    assert [e.type for e in product_events] == ["product.updated", "product.created"]
    assert product_events[0].data.object.name == "Masthead Plus"
    assert product_events[0].data.previous_attributes["name"] == "Masthead Membership"
    price_updated = [
        e
        for e in client.v1.events.list(params={"type": "price.updated"}).data
        if e.data.object.id == catalog["premium"].id
    ]
    assert price_updated[0].data.previous_attributes.to_dict() == {"active": True}
    created = client.v1.events.list(params={"type": "price.created", "limit": 100}).data
    assert catalog["premium"].id in {e.data.object.id for e in created}


def test_products_are_retrieved_listed_by_active_and_price_needs_a_product(client, catalog):
    assert client.v1.products.retrieve(catalog["product"].id).name == "Masthead Membership"
    listed = client.v1.products.list(params={"active": True, "limit": 100})
    assert catalog["product"].id in {p.id for p in listed.data}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create(params={"unit_amount": 100, "currency": "usd"})
    assert exc.value.code == "parameter_missing" and exc.value.param == "product"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create(
            params={"product": "prod_missing", "unit_amount": 100, "currency": "usd"}
        )
    assert exc.value.http_status == 404 and exc.value.param == "product"
