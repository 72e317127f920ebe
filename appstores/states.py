"""A store's answer turned into one shape Masthead applies: what the subscription is now and
until when it gives access. Apple's and Google's rules live here, side by side."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appstores.gateways.apple import AppleStatus
from appstores.gateways.google import GooglePurchase
from appstores.models import Store
from appstores.models import StoreSubscriptionStatus as Status

# Apple's subscription status values (App Store Server API).
APPLE_ACTIVE, APPLE_EXPIRED, APPLE_BILLING_RETRY, APPLE_GRACE, APPLE_REVOKED = 1, 2, 3, 4, 5

# Google's subscriptionState values and what they mean here; those with access read until
# the line items' expiryTime (Google moves it to the grace period's end while in grace).
GOOGLE_STATES = {
    "SUBSCRIPTION_STATE_ACTIVE": (Status.ACTIVE, True),
    "SUBSCRIPTION_STATE_CANCELED": (Status.CANCELED, True),
    "SUBSCRIPTION_STATE_IN_GRACE_PERIOD": (Status.GRACE_PERIOD, True),
    "SUBSCRIPTION_STATE_ON_HOLD": (Status.BILLING_RETRY, False),
    "SUBSCRIPTION_STATE_PAUSED": (Status.PAUSED, False),
    "SUBSCRIPTION_STATE_PENDING": (Status.PENDING, False),
    "SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED": (Status.EXPIRED, False),
    "SUBSCRIPTION_STATE_EXPIRED": (Status.EXPIRED, False),
}


@dataclass(frozen=True)
class StoreState:
    """One store subscription's newest state. ``access_until`` None: no access now."""

    store: str
    external_id: str
    product_id: str
    status: str
    access_until: datetime | None
    expires_at: datetime | None = None
    grace_until: datetime | None = None
    revoked_at: datetime | None = None
    auto_renew: bool | None = None
    auto_renew_product_id: str = ""
    app_account_token: str | None = None
    environment: str = ""
    latest_transaction_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def apple_state(status: AppleStatus) -> StoreState:
    """Access runs to the paid period's end, or to the grace period's end while Apple retries
    in grace; a refund or revocation ends it at once."""
    tx, renewal = status.transaction, status.renewal
    grace = renewal.grace_period_expires if renewal else None
    auto_renew = renewal.auto_renew if renewal else None
    access: datetime | None = tx.expires_date
    if tx.revocation_date is not None or status.status == APPLE_REVOKED:
        state, access = Status.REVOKED, None
    elif status.status == APPLE_GRACE:
        state = Status.GRACE_PERIOD
        access = max(m for m in (tx.expires_date, grace) if m is not None) if grace else access
    elif status.status == APPLE_BILLING_RETRY:
        state = Status.BILLING_RETRY
    elif status.status == APPLE_EXPIRED:
        state = Status.EXPIRED
    else:
        state = Status.CANCELED if auto_renew is False else Status.ACTIVE
    return StoreState(
        store=Store.APPLE,
        external_id=tx.original_transaction_id,
        product_id=tx.product_id,
        status=state,
        access_until=access,
        expires_at=tx.expires_date,
        grace_until=grace,
        revoked_at=tx.revocation_date,
        auto_renew=auto_renew,
        auto_renew_product_id=renewal.auto_renew_product_id if renewal else "",
        app_account_token=tx.app_account_token,
        environment=tx.environment,
        latest_transaction_id=tx.transaction_id,
        data={
            "status": status.status,
            "transactionId": tx.transaction_id,
            "productId": tx.product_id,
            "purchaseDate": _iso(tx.purchase_date),
            "expiresDate": _iso(tx.expires_date),
            "gracePeriodExpiresDate": _iso(grace),
            "revocationDate": _iso(tx.revocation_date),
            "revocationReason": tx.revocation_reason,
            "autoRenewProductId": renewal.auto_renew_product_id if renewal else "",
        },
    )


def google_state(purchase: GooglePurchase, *, revoked: bool = False) -> StoreState:
    """Access runs to the line items' expiry while the subscription is active, cancelled (until
    its paid time ends) or in grace; on hold, paused, expired or revoked it has none."""
    status, reads = GOOGLE_STATES.get(purchase.state, (Status.EXPIRED, False))
    if revoked and not reads:
        status = Status.REVOKED
    return StoreState(
        store=Store.GOOGLE,
        external_id=purchase.purchase_token,
        product_id=purchase.product_id,
        status=status,
        access_until=purchase.expiry if reads else None,
        expires_at=purchase.expiry,
        grace_until=purchase.expiry if status == Status.GRACE_PERIOD else None,
        auto_renew=purchase.auto_renew,
        app_account_token=purchase.account_id or None,
        environment="test" if purchase.test else "production",
        latest_transaction_id=str(purchase.raw.get("latestOrderId") or ""),
        data=purchase.raw,
    )
