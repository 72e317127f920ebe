"""The app stores' refusals, each with a stable code."""

from core.errors import ApplicationError


class StoreErrorCode:
    BAD_SIGNATURE = "bad_signature"
    WRONG_APP = "wrong_app"
    WRONG_ENVIRONMENT = "wrong_environment"
    MALFORMED = "malformed_notification"
    STORE_UNAVAILABLE = "store_unavailable"
    STORE_REFUSED = "store_refused"
    UNKNOWN_PURCHASE = "unknown_purchase"
    OTHER_READER = "purchase_of_another_reader"
    PRODUCT_MISMATCH = "product_mismatch"
    NOT_CONFIGURED = "store_not_configured"


class StoreError(ApplicationError):
    """A store's answer Masthead cannot use, or a refusal of a reader's request."""
