"""Portal deep links: ``flow_data`` checked as Stripe checks it, stored as the session's
``flow``, and the hosted page's one-step confirmation of a ``subscription_update_confirm``."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from .conftest import http_request

RETURN = "https://masthead.example/account"
BACK = "https://masthead.example/articles/7/"


@pytest.fixture
def configuration(client, catalog, subscribed):  # type: ignore[no-untyped-def]
    """A configuration offering the monthly and premium prices, not the yearly one (made
    after the sandbox's default one, which other tests rely on, so it is not the default)."""
    client.v1.billing_portal.sessions.create(params={"customer": subscribed[0].id})
    return client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price"],
                    "products": [
                        {
                            "product": catalog["product"].id,
                            "prices": [catalog["monthly"].id, catalog["premium"].id],
                        }
                    ],
                }
            }
        }
    )


@pytest.fixture
def subscribed(client, catalog):  # type: ignore[no-untyped-def]
    cus = client.v1.customers.create(params={"email": "flows@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_visa",
        }
    )
    return cus, sub


def update_confirm(sub: Any, price: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "subscription_update_confirm",
        "subscription_update_confirm": {
            "subscription": sub.id,
            "items": [{"id": sub["items"].data[0].id, "price": price}],
        },
        **extra,
    }


def test_an_update_confirm_session_holds_the_flow_and_confirms_in_one_step(
    client, catalog, configuration, subscribed
):
    cus, sub = subscribed
    item = sub["items"].data[0].id
    portal = client.v1.billing_portal.sessions.create(
        params={
            "customer": cus.id,
            "return_url": RETURN,
            "configuration": configuration.id,
            "flow_data": update_confirm(
                sub,
                catalog["premium"].id,
                after_completion={"type": "redirect", "redirect": {"return_url": BACK}},
            ),
        }
    )

    assert portal.flow.to_dict() == {
        "after_completion": {
            "hosted_confirmation": None,
            "redirect": {"return_url": BACK},
            "type": "redirect",
        },
        "customer_update": None,
        "subscription_cancel": None,
        "subscription_pause": None,
        "subscription_update": None,
        "subscription_update_confirm": {
            "discounts": [],
            "items": [{"id": item, "price": catalog["premium"].id, "quantity": None}],
            "subscription": sub.id,
        },
        "type": "subscription_update_confirm",
    }
    status, _, page = http_request(portal.url)
    assert status == 200 and "Confirm your update" in page and "Cancel plan" not in page
    assert "$15.00" in page, page
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == (
        catalog["monthly"].id
    ), "nothing changes before the reader confirms"

    status, headers, _ = http_request(
        portal.url, "POST", form={"action": "confirm_update", "subscription": sub.id}
    )

    assert status == 303 and headers["location"] == BACK
    switched = client.v1.subscriptions.retrieve(sub.id)
    assert switched["items"].data[0].price.id == catalog["premium"].id
    updated = client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated.data.object.id == sub.id
    assert "items" in updated.data.previous_attributes
    _, _, again = http_request(portal.url)
    assert "Confirm your update" not in again and "Renews on" in again, "the flow is done"
    status, headers, _ = http_request(
        portal.url, "POST", form={"action": "confirm_update", "subscription": sub.id}
    )
    assert "There+is+no+update+to+confirm" in headers["location"]


def test_after_a_hosted_confirmation_the_portal_shows_the_custom_message(
    client, catalog, configuration, subscribed
):
    cus, sub = subscribed
    portal = client.v1.billing_portal.sessions.create(
        params={
            "customer": cus.id,
            "configuration": configuration.id,
            "flow_data": update_confirm(
                sub,
                catalog["premium"].id,
                after_completion={
                    "type": "hosted_confirmation",
                    "hosted_confirmation": {"custom_message": "Enjoy every title"},
                },
            ),
        }
    )

    _, headers, _ = http_request(
        portal.url, "POST", form={"action": "confirm_update", "subscription": sub.id}
    )

    _, _, page = http_request(headers["location"])
    assert "Enjoy every title" in page


def test_a_session_without_flow_data_has_no_flow(client, subscribed):
    cus, _sub = subscribed
    assert client.v1.billing_portal.sessions.create(params={"customer": cus.id}).flow is None


def refusal(client: Any, params: dict[str, Any]) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.billing_portal.sessions.create(params=params)
    return caught.value


def test_flow_data_is_refused_as_stripe_refuses_it(client, catalog, configuration, subscribed):
    cus, sub = subscribed
    other = client.v1.customers.create(params={"email": "other@example.com"})
    base = {"customer": cus.id, "configuration": configuration.id}
    confirm = "flow_data[subscription_update_confirm]"

    not_mine = refusal(
        client,
        {**base, "customer": other.id, "flow_data": update_confirm(sub, catalog["premium"].id)},
    )
    not_offered = refusal(client, {**base, "flow_data": update_confirm(sub, catalog["yearly"].id)})
    no_item = update_confirm(sub, catalog["premium"].id)
    no_item["subscription_update_confirm"]["items"][0]["id"] = "si_missing"
    unknown_item = refusal(client, {**base, "flow_data": no_item})
    two = update_confirm(sub, catalog["premium"].id)
    two["subscription_update_confirm"]["items"] *= 2
    two_items = refusal(client, {**base, "flow_data": two})
    no_details = refusal(client, {**base, "flow_data": {"type": "subscription_update_confirm"}})
    redirect_without_url = refusal(
        client,
        {
            **base,
            "flow_data": update_confirm(
                sub, catalog["premium"].id, after_completion={"type": "redirect"}
            ),
        },
    )

    assert (not_mine.http_status, not_mine.param) == (400, f"{confirm}[subscription]")
    assert "does not belong to customer" in not_mine.user_message
    assert (not_offered.http_status, not_offered.param) == (400, f"{confirm}[items][0][price]")
    assert "features.subscription_update.products" in not_offered.user_message
    assert (unknown_item.http_status, unknown_item.code) == (404, "resource_missing")
    assert two_items.param == f"{confirm}[items]"
    assert (no_details.code, no_details.param) == ("parameter_missing", confirm)
    assert redirect_without_url.param == "flow_data[after_completion][redirect]"


def test_a_canceled_subscription_or_a_disabled_feature_is_refused(
    client, catalog, configuration, subscribed
):
    cus, sub = subscribed
    disabled = client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_update": {"enabled": False}}}
    )
    off = refusal(
        client,
        {
            "customer": cus.id,
            "configuration": disabled.id,
            "flow_data": update_confirm(sub, catalog["premium"].id),
        },
    )
    client.v1.subscriptions.cancel(sub.id)
    canceled = refusal(
        client, {"customer": cus.id, "flow_data": update_confirm(sub, catalog["premium"].id)}
    )

    assert off.param == "flow_data[type]" and "disabled" in off.user_message
    assert canceled.param == "flow_data[subscription_update_confirm][subscription]"
    assert "canceled" in canceled.user_message
