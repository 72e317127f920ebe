"""Apple's side: auto-renewable subscriptions, their signed transactions and renewal info,
the App Store Server API's subscription statuses, and Server Notifications V2."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from .keys import AppleChain
from .state import State, now_ms

DAY_MS = 86_400_000

# The App Store Server API's subscription status values.
ACTIVE, EXPIRED, BILLING_RETRY, GRACE_PERIOD, REVOKED = 1, 2, 3, 4, 5


class SandboxRefusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class AppleConfig:
    bundle_id: str
    app_apple_id: int
    environment: str
    period_ms: int
    grace_ms: int


class AppleStore:
    """Subscriptions keyed by ``originalTransactionId``; every change signs what Apple would."""

    def __init__(self, state: State, chain: AppleChain, config: AppleConfig) -> None:
        self.state = state
        self.chain = chain
        self.config = config

    def sign(self, payload: dict[str, Any]) -> str:
        return jwt.encode(
            payload, self.chain.leaf_key_pem(), algorithm="ES256", headers={"x5c": self.chain.x5c()}
        )

    def _subs(self) -> dict[str, Any]:
        subs: dict[str, Any] = self.state.data["apple"]
        return subs

    def get(self, original_id: str) -> dict[str, Any]:
        sub = self._subs().get(original_id)
        if sub is None:
            raise SandboxRefusal(404, f"No subscription {original_id}")
        return sub

    def find(self, transaction_id: str) -> dict[str, Any]:
        """The subscription holding any of its transaction ids."""
        for sub in self._subs().values():
            if transaction_id in sub["transaction_ids"] or transaction_id == sub["original_id"]:
                return dict(sub)
        raise SandboxRefusal(404, f"No transaction {transaction_id}")

    def subscribe(self, *, product_id: str, app_account_token: str | None) -> dict[str, Any]:
        """A purchase on a device: a new subscription, active for one period."""
        now = now_ms()
        original_id = str(2_000_000_000_000_000 + self.state.next_number())
        sub = {
            "original_id": original_id,
            "transaction_ids": [original_id],
            "product_id": product_id,
            "auto_renew_product_id": product_id,
            "auto_renew": 1,
            "app_account_token": app_account_token,
            "purchase_date": now,
            "original_purchase_date": now,
            "expires_date": now + self.config.period_ms,
            "status": ACTIVE,
            "grace_until": None,
            "revocation_date": None,
            "revocation_reason": None,
            "reason": "PURCHASE",
        }
        self._subs()[original_id] = sub
        return sub

    def transaction(self, sub: dict[str, Any], *, environment: str | None = None) -> dict[str, Any]:
        payload = {
            "transactionId": sub["transaction_ids"][-1],
            "originalTransactionId": sub["original_id"],
            "webOrderLineItemId": f"wo{sub['transaction_ids'][-1]}",
            "bundleId": self.config.bundle_id,
            "productId": sub["product_id"],
            "subscriptionGroupIdentifier": "masthead",
            "purchaseDate": sub["purchase_date"],
            "originalPurchaseDate": sub["original_purchase_date"],
            "expiresDate": sub["expires_date"],
            "quantity": 1,
            "type": "Auto-Renewable Subscription",
            "inAppOwnershipType": "PURCHASED",
            "signedDate": now_ms(),
            "environment": environment or self.config.environment,
            "transactionReason": sub["reason"],
            "storefront": "GBR",
            "storefrontId": "143444",
            "currency": "GBP",
            "price": 9990,
        }
        if sub["app_account_token"]:
            payload["appAccountToken"] = sub["app_account_token"]
        if sub["revocation_date"]:
            payload["revocationDate"] = sub["revocation_date"]
            payload["revocationReason"] = sub["revocation_reason"]
        return payload

    def renewal_info(
        self, sub: dict[str, Any], *, environment: str | None = None
    ) -> dict[str, Any]:
        info = {
            "originalTransactionId": sub["original_id"],
            "productId": sub["product_id"],
            "autoRenewProductId": sub["auto_renew_product_id"],
            "autoRenewStatus": sub["auto_renew"],
            "isInBillingRetryPeriod": sub["status"] in (BILLING_RETRY, GRACE_PERIOD),
            "signedDate": now_ms(),
            "environment": environment or self.config.environment,
            "recentSubscriptionStartDate": sub["original_purchase_date"],
            "renewalDate": sub["expires_date"],
        }
        if sub["grace_until"]:
            info["gracePeriodExpiresDate"] = sub["grace_until"]
        return info

    def signed_transaction(self, sub: dict[str, Any], **kw: Any) -> str:
        return self.sign(self.transaction(sub, **kw))

    def statuses(self, transaction_id: str) -> dict[str, Any]:
        """``GET /inApps/v1/subscriptions/{transactionId}``: the newest state, signed."""
        sub = self.find(transaction_id)
        item = {
            "originalTransactionId": sub["original_id"],
            "status": sub["status"],
            "signedTransactionInfo": self.signed_transaction(sub),
            "signedRenewalInfo": self.sign(self.renewal_info(sub)),
        }
        return {
            "environment": self.config.environment,
            "bundleId": self.config.bundle_id,
            "appAppleId": self.config.app_apple_id,
            "data": [{"subscriptionGroupIdentifier": "masthead", "lastTransactions": [item]}],
        }

    # What happens to a subscription, and the notification Apple sends for it.
    def act(self, original_id: str, action: str, *, product_id: str = "") -> tuple[str, str]:
        sub = self.get(original_id)
        now = now_ms()
        if action == "renew":
            new_id = str(2_000_000_000_000_000 + self.state.next_number())
            sub["transaction_ids"].append(new_id)
            sub["product_id"] = sub["auto_renew_product_id"]
            sub["purchase_date"] = now
            sub["expires_date"] = max(now, sub["expires_date"]) + self.config.period_ms
            sub.update(status=ACTIVE, grace_until=None, reason="RENEWAL")
            return "DID_RENEW", ("BILLING_RECOVERY" if sub.get("was_failing") else "")
        if action == "fail":
            sub.update(status=BILLING_RETRY, expires_date=min(sub["expires_date"], now - 1000))
            sub["was_failing"] = True
            return "DID_FAIL_TO_RENEW", ""
        if action == "grace":
            sub.update(status=GRACE_PERIOD, grace_until=now + self.config.grace_ms)
            sub["expires_date"] = min(sub["expires_date"], now - 1000)
            sub["was_failing"] = True
            return "DID_FAIL_TO_RENEW", "GRACE_PERIOD"
        if action == "expire":
            sub.update(status=EXPIRED, grace_until=None, auto_renew=0)
            sub["expires_date"] = min(sub["expires_date"], now - 1000)
            return "EXPIRED", "VOLUNTARY"
        if action in ("refund", "revoke"):
            sub.update(status=REVOKED, revocation_date=now, revocation_reason=0, grace_until=None)
            return action.upper(), ""
        if action == "change_pref":
            if not product_id:
                raise SandboxRefusal(400, "change_pref needs a product_id")
            sub["auto_renew_product_id"] = product_id
            return "DID_CHANGE_RENEWAL_PREF", "DOWNGRADE"
        if action == "cancel":
            sub["auto_renew"] = 0
            return "DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED"
        raise SandboxRefusal(400, f"Unknown action {action!r}")

    def notification(
        self,
        sub: dict[str, Any],
        notification_type: str,
        subtype: str,
        *,
        environment: str | None = None,
        bundle_id: str | None = None,
    ) -> tuple[str, str]:
        """Return a signed Server Notification V2 and its ``notificationUUID``."""
        env = environment or self.config.environment
        notification_uuid = str(uuid.uuid4())
        payload: dict[str, Any] = {
            "notificationType": notification_type,
            "notificationUUID": notification_uuid,
            "version": "2.0",
            "signedDate": now_ms(),
            "data": {
                "appAppleId": self.config.app_apple_id,
                "bundleId": bundle_id or self.config.bundle_id,
                "bundleVersion": "1",
                "environment": env,
                "signedTransactionInfo": self.signed_transaction(sub, environment=env),
                "signedRenewalInfo": self.sign(self.renewal_info(sub, environment=env)),
                "status": sub["status"],
            },
        }
        if subtype:
            payload["subtype"] = subtype
        return self.sign(payload), notification_uuid
