"""Scrubbing JSON kept for idempotency or records (Stripe's events, stored objects): the
values that name a person go, the shape and the ids stay."""

from typing import Any

ERASED = "[erased]"

# Keys whose values name or locate a person, in Stripe's objects and the app stores'.
PERSONAL_KEYS = frozenset(
    {
        "email",
        "name",
        "phone",
        "address",
        "shipping",
        "billing_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
        "receipt_email",
        "customer_details",
        "shipping_details",
        "account_name",
        "cardholder_name",
        "full_name",
    }
)


def json_scrub(value: Any, *, needles: tuple[str, ...] = ()) -> Any:
    """Return ``value`` with every personal key's value erased (at any depth) and every
    string that contains one of ``needles`` (the reader's address, their name) replaced."""
    lowered = tuple(n.lower() for n in needles if n)
    return _scrub(value, lowered)


def _scrub(value: Any, needles: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {
            key: (_erased(item) if key in PERSONAL_KEYS else _scrub(item, needles))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item, needles) for item in value]
    if isinstance(value, str) and any(n in value.lower() for n in needles):
        return ERASED
    return value


def _erased(value: Any) -> Any:
    """Blank a personal value but keep its type, so readers of the JSON do not break."""
    if value is None or value == "" or value == {} or value == []:
        return value
    if isinstance(value, dict | list):
        return None
    return ERASED
