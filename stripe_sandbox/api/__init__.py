"""Resource handlers; importing this package registers every route."""

from . import (  # noqa: F401
    billing_api,
    catalog,
    charges_api,
    checkout,
    clocks_api,
    customers,
    discounts_api,
    events_api,
    portal,
    subscriptions,
)
