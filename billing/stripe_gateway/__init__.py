"""The only package that talks to Stripe (or the offline sandbox standing in for it), and
the only one that imports ``stripe`` or reads Stripe's keys.

``client`` holds the client and the one error boundary (``stripe_call``: Stripe's
exceptions become ``BillingError``), ``resources`` the calls Masthead makes, ``verification``
the webhook signature check, and ``shapes`` the small frozen shapes every call returns.
"""

from billing.stripe_gateway.client import (
    SDK_API_VERSION,
    client,
    idempotency_key,
    stripe_call,
    stripe_reachable,
)
from billing.stripe_gateway.resources import (
    checkout_session_create,
    checkout_session_retrieve,
    checkout_sessions_expire_open,
    customer_create,
    invoice_pay,
    invoice_payment_intent_ids,
    portal_configuration_retrieve,
    portal_configuration_save,
    portal_products_param,
    portal_session_create,
    portal_switch_session_create,
    price_active_set,
    price_create,
    prices_list,
    product_create,
    product_retrieve,
    product_update,
    refund_create,
    subscription_cancel,
    subscription_retrieve,
    subscriptions_iter,
)
from billing.stripe_gateway.shapes import (
    StripeCheckoutSession,
    StripeCustomer,
    StripeEvent,
    StripeInvoice,
    StripePortalConfiguration,
    StripePortalSession,
    StripePrice,
    StripeProduct,
    StripeSubscription,
)
from billing.stripe_gateway.verification import EVENT_TEXT_FIELDS, event_verify

__all__ = [
    "EVENT_TEXT_FIELDS",
    "SDK_API_VERSION",
    "StripeCheckoutSession",
    "StripeCustomer",
    "StripeEvent",
    "StripeInvoice",
    "StripePortalConfiguration",
    "StripePortalSession",
    "StripePrice",
    "StripeProduct",
    "StripeSubscription",
    "checkout_session_create",
    "checkout_session_retrieve",
    "checkout_sessions_expire_open",
    "client",
    "customer_create",
    "event_verify",
    "idempotency_key",
    "invoice_pay",
    "invoice_payment_intent_ids",
    "portal_configuration_retrieve",
    "portal_configuration_save",
    "portal_products_param",
    "portal_session_create",
    "portal_switch_session_create",
    "price_active_set",
    "price_create",
    "prices_list",
    "product_create",
    "product_retrieve",
    "product_update",
    "refund_create",
    "stripe_call",
    "stripe_reachable",
    "subscription_cancel",
    "subscription_retrieve",
    "subscriptions_iter",
]
