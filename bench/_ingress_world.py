"""The Stripe side of the webhook ingress benchmark: readers, their subscriptions and the
events Stripe (here the offline ``stripe_sandbox``) emits for them.

``world_build`` makes, through the official SDK, one customer per reader and a subscription
of one of five kinds (paid, paid then set to end, card trial, failing card, paid then
cancelled); ``stream_collect`` reads the events that Masthead's handler map applies back
from the sandbox's own ``/v1/events``, oldest first; ``objects_snapshot`` fetches every
object those events refer to (and the objects they refer to), as Stripe has them at the
end, for the dj-stripe peer's stand-in.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterable
from typing import Any

# The types Masthead applies (billing/events.py) that a subscription's life emits;
# checkout.session.completed needs the hosted page, and the rest are not sent here.
STREAM_TYPES = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
)

KINDS = ("paid", "ending", "trial", "failing", "cancelled")

# Stripe id prefixes and where the object is retrieved; longest prefixes first.
PATHS = (
    ("price_", "/v1/prices/"),
    ("prod_", "/v1/products/"),
    ("cus_", "/v1/customers/"),
    ("sub_", "/v1/subscriptions/"),
    ("si_", "/v1/subscription_items/"),
    ("in_", "/v1/invoices/"),
    ("pm_", "/v1/payment_methods/"),
    ("pi_", "/v1/payment_intents/"),
    ("ch_", "/v1/charges/"),
)
ID = re.compile(r"^(price|prod|cus|sub|si|in|pm|pi|ch)_[A-Za-z0-9]+$")


def world_build(client: Any, *, users: list[tuple[int, str]], plan_id: int) -> dict[str, Any]:
    """Create a product and price, then per reader ``(user id, email)`` a customer and a
    subscription of kind ``KINDS[i % 5]``; return the price id and the customer ids."""
    product = client.v1.products.create(
        {"name": "Masthead (bench)", "metadata": {"plan_id": str(plan_id)}}
    )
    price = client.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": 900,
            "currency": "gbp",
            "recurring": {"interval": "month"},
            "metadata": {"plan_id": str(plan_id), "interval": "month"},
        }
    )
    customers = []
    for index, (user_id, email) in enumerate(users):
        kind = KINDS[index % len(KINDS)]
        card = "pm_card_chargeCustomerFail" if kind == "failing" else "pm_card_visa"
        customer = client.v1.customers.create(
            {"email": email, "metadata": {"user_id": str(user_id)}}
        )
        params: dict[str, Any] = {
            "customer": customer.id,
            "items": [{"price": price.id}],
            "default_payment_method": card,
            "metadata": {"user_id": str(user_id)},
        }
        if kind == "trial":
            params["trial_period_days"] = 14
        if kind == "failing":
            params["payment_behavior"] = "allow_incomplete"
        subscription = client.v1.subscriptions.create(params)
        if kind in {"ending", "trial"}:
            client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": True})
        if kind == "cancelled":
            client.v1.subscriptions.cancel(subscription.id)
        customers.append((user_id, customer.id))
    return {"price": price.id, "customers": customers}


def stream_collect(client: Any, types: Iterable[str] = STREAM_TYPES) -> list[dict[str, Any]]:
    """Return the sandbox's events of ``types``, oldest first, as plain dicts."""
    page = client.v1.events.list({"types": list(types), "limit": 100})
    newest_first = [item.to_dict(for_json=True) for item in page.auto_paging_iter()]
    return newest_first[::-1]


def _get(base: str, path: str, api_key: str) -> dict[str, Any]:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {api_key}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        result: dict[str, Any] = json.loads(answer.read())
        return result


def _ids_in(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        if ID.match(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids_in(item)


def objects_snapshot(
    base: str, api_key: str, events: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Fetch from the sandbox every object the events refer to, and what those refer to."""
    found: dict[str, dict[str, Any]] = {}
    todo = [i for e in events for i in _ids_in(e["data"]["object"])]
    while todo:
        object_id = todo.pop()
        if object_id in found:
            continue
        path = next(p for prefix, p in PATHS if object_id.startswith(prefix))
        try:
            obj = _get(base, path + object_id, api_key)
        except OSError:  # a 404: Stripe would not serve it either
            continue
        found[object_id] = obj
        todo.extend(i for i in _ids_in(obj) if i not in found)
    return found
