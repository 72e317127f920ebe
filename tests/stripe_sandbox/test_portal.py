"""Billing portal sessions and the hosted portal page's forms."""

from __future__ import annotations

import pytest
import stripe

from .conftest import http_request

RETURN = "https://masthead.example/account"


@pytest.fixture
def subscribed(client, catalog):
    cus = client.v1.customers.create(params={"email": "portal@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_visa",
        }
    )
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": cus.id, "return_url": RETURN}
    )
    return cus, sub, portal


def test_a_portal_session_has_a_hosted_url_and_shows_the_plan(client, subscribed):
    cus, _sub, portal = subscribed
    assert portal.id.startswith("bps_") and portal.customer == cus.id
    assert portal.return_url == RETURN and portal.configuration.startswith("bpc_")
    status, _, html = http_request(portal.url)
    assert status == 200
    assert "Masthead Membership" in html and "Renews on" in html and RETURN in html
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.billing_portal.sessions.create(params={"customer": "cus_missing"})
    assert exc.value.http_status == 404


def test_cancel_in_the_portal_sets_cancel_at_to_the_period_end_and_resume_clears_it(
    client, subscribed
):
    _cus, sub, portal = subscribed
    end = sub["items"].data[0].current_period_end
    status, headers, _ = http_request(
        portal.url, "POST", form={"action": "cancel", "subscription": sub.id}
    )
    assert status == 303 and headers["location"].startswith(portal.url)
    canceled = client.v1.subscriptions.retrieve(sub.id)
    assert canceled.cancel_at == end
    assert canceled.cancel_at_period_end is False  # as the pinned API version's portal does
    assert canceled.status == "active"
    _, _, html = http_request(headers["location"])
    assert "Cancels on" in html
    http_request(portal.url, "POST", form={"action": "resume", "subscription": sub.id})
    resumed = client.v1.subscriptions.retrieve(sub.id)
    assert resumed.cancel_at is None and resumed.cancel_at_period_end is False
    updates = [
        e
        for e in client.v1.events.list(params={"type": "customer.subscription.updated"}).data
        if e.data.object.id == sub.id
    ]
    assert updates[0].data.previous_attributes["cancel_at"] == end
    assert updates[1].data.previous_attributes["cancel_at"] is None


def test_switching_plan_in_the_portal_changes_the_price(client, catalog, subscribed):
    _cus, sub, portal = subscribed
    _, _, html = http_request(portal.url)
    assert catalog["premium"].id in html
    http_request(
        portal.url,
        "POST",
        form={"action": "switch", "subscription": sub.id, "price": catalog["premium"].id},
    )
    switched = client.v1.subscriptions.retrieve(sub.id)
    assert switched["items"].data[0].price.id == catalog["premium"].id


def test_replacing_the_card_in_the_portal_sets_the_new_default(client, subscribed):
    cus, sub, portal = subscribed
    http_request(
        portal.url, "POST", form={"action": "update_card", "card_number": "4000000000000341"}
    )
    cus = client.v1.customers.retrieve(cus.id)
    pm = client.v1.payment_methods.retrieve(cus.invoice_settings.default_payment_method)
    assert pm.card.last4 == "0341" and pm.customer == cus.id
    assert client.v1.subscriptions.retrieve(sub.id).default_payment_method == pm.id
    _, _, html = http_request(portal.url)
    assert "Card ending in 0341" in html


def test_a_configuration_listing_active_prices_is_used(client, catalog):
    conf = client.v1.billing_portal.configurations.create(
        params={
            "business_profile": {"headline": "Masthead"},
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price"],
                    "products": [
                        {
                            "product": catalog["product"].id,
                            "prices": [catalog["monthly"].id, catalog["yearly"].id],
                        }
                    ],
                },
                "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
            },
        }
    )
    assert conf.id.startswith("bpc_") and conf.features.subscription_update.enabled
    assert conf.id in {c.id for c in client.v1.billing_portal.configurations.list().data}
    cus = client.v1.customers.create(params={"email": "conf@example.com"})
    client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_visa",
        }
    )
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": cus.id, "configuration": conf.id}
    )
    _, _, html = http_request(portal.url)
    assert catalog["yearly"].id in html and catalog["premium"].id not in html
