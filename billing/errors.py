"""Billing's refusals: Stripe's failures and Masthead's own, each with a stable code."""

from core.errors import ApplicationError


class BillingErrorCode:
    STRIPE_UNAVAILABLE = "stripe_unavailable"
    STRIPE_REFUSED = "stripe_refused"
    CARD_DECLINED = "card_declined"
    NOT_FOUND = "stripe_not_found"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED_EVENT = "malformed_event"
    ALREADY_SUBSCRIBED = "already_subscribed"
    UNKNOWN_PLAN = "unknown_plan"
    PLAN_NOT_SYNCED = "plan_not_synced"
    NO_CUSTOMER = "no_billing_account"
    SESSION_MISMATCH = "checkout_session_mismatch"
    CHECKOUT_INCOMPLETE = "checkout_incomplete"
    NO_SUBSCRIPTION = "no_subscription"
    SAME_PLAN = "already_on_plan"
    INVALID_QUANTITY = "invalid_quantity"
    UNKNOWN_PACK = "unknown_pack"
    PACK_NOT_SYNCED = "pack_not_synced"


class BillingError(ApplicationError):
    """A billing operation that could not be done; ``code`` says which failure it was."""
