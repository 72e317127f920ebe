"""Google Play's side: subscription purchases (``purchases.subscriptionsv2``), their
acknowledgement, and real-time developer notifications pushed by Pub/Sub with an OIDC token."""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from .apple import SandboxRefusal
from .keys import GoogleSigner
from .state import State, now_ms

# RTDN notificationType values.
RECOVERED, RENEWED, CANCELED, PURCHASED, ON_HOLD, IN_GRACE_PERIOD = 1, 2, 3, 4, 5, 6
RESTARTED, REVOKED, EXPIRED = 7, 12, 13


def rfc3339(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class GoogleConfig:
    package_name: str
    push_url: str
    service_account: str
    period_ms: int
    grace_ms: int


class GooglePlay:
    def __init__(self, state: State, signer: GoogleSigner, config: GoogleConfig) -> None:
        self.state = state
        self.signer = signer
        self.config = config

    def _purchases(self) -> dict[str, Any]:
        purchases: dict[str, Any] = self.state.data["google"]
        return purchases

    def get(self, token: str) -> dict[str, Any]:
        purchase = self._purchases().get(token)
        if purchase is None:
            raise SandboxRefusal(404, "The purchase token is not known.")
        return purchase

    def purchase(
        self, *, product_id: str, account_id: str, linked_purchase_token: str = ""
    ) -> dict[str, Any]:
        """A purchase in the Play Store app: active for one period, not yet acknowledged."""
        now = now_ms()
        token = "gp." + secrets.token_urlsafe(48)
        purchase = {
            "token": token,
            "product_id": product_id,
            "account_id": account_id,
            "state": "SUBSCRIPTION_STATE_ACTIVE",
            "start": now,
            "expiry": now + self.config.period_ms,
            "acknowledged": False,
            "auto_renew": True,
            "order": f"GPA.{self.state.next_number():04d}-0000",
            "linked": linked_purchase_token,
        }
        if linked_purchase_token:
            old = self.get(linked_purchase_token)
            old.update(state="SUBSCRIPTION_STATE_EXPIRED", expiry=min(old["expiry"], now))
        self._purchases()[token] = purchase
        return purchase

    def resource(self, token: str) -> dict[str, Any]:
        """``SubscriptionPurchaseV2`` as ``purchases.subscriptionsv2.get`` answers."""
        p = self.get(token)
        body: dict[str, Any] = {
            "kind": "androidpublisher#subscriptionPurchaseV2",
            "regionCode": "GB",
            "startTime": rfc3339(p["start"]),
            "subscriptionState": p["state"],
            "latestOrderId": p["order"],
            "acknowledgementState": "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED"
            if p["acknowledged"]
            else "ACKNOWLEDGEMENT_STATE_PENDING",
            "externalAccountIdentifiers": {"obfuscatedExternalAccountId": p["account_id"]},
            "testPurchase": {},
            "lineItems": [
                {
                    "productId": p["product_id"],
                    "expiryTime": rfc3339(p["expiry"]),
                    "autoRenewingPlan": {"autoRenewEnabled": p["auto_renew"]},
                    "offerDetails": {"basePlanId": "monthly"},
                }
            ],
        }
        if p["linked"]:
            body["linkedPurchaseToken"] = p["linked"]
        return body

    def acknowledge(self, product_id: str, token: str) -> None:
        p = self.get(token)
        if p["product_id"] != product_id:
            raise SandboxRefusal(400, "The product does not match the purchase.")
        p["acknowledged"] = True

    def act(self, token: str, action: str) -> int:
        """Change a purchase; return the RTDN notificationType Google sends for it."""
        p = self.get(token)
        now = now_ms()
        if action == "renew":
            p.update(
                state="SUBSCRIPTION_STATE_ACTIVE",
                expiry=max(now, p["expiry"]) + self.config.period_ms,
            )
            p["order"] = p["order"].split("..")[0] + f"..{self.state.next_number()}"
            return RENEWED
        if action == "recover":
            p.update(state="SUBSCRIPTION_STATE_ACTIVE", expiry=now + self.config.period_ms)
            return RECOVERED
        if action == "grace":
            p.update(state="SUBSCRIPTION_STATE_IN_GRACE_PERIOD", expiry=now + self.config.grace_ms)
            return IN_GRACE_PERIOD
        if action == "fail":
            p.update(state="SUBSCRIPTION_STATE_ON_HOLD", expiry=min(p["expiry"], now - 1000))
            return ON_HOLD
        if action == "cancel":
            p.update(state="SUBSCRIPTION_STATE_CANCELED", auto_renew=False)
            return CANCELED
        if action == "expire":
            p.update(state="SUBSCRIPTION_STATE_EXPIRED", expiry=min(p["expiry"], now - 1000))
            return EXPIRED
        if action in ("refund", "revoke"):
            p.update(state="SUBSCRIPTION_STATE_EXPIRED", expiry=min(p["expiry"], now - 1000))
            return REVOKED
        raise SandboxRefusal(400, f"Unknown action {action!r}")

    def push_body(self, token: str, notification_type: int) -> tuple[dict[str, Any], str]:
        """The Pub/Sub push body of an RTDN and its ``messageId``."""
        message_id = str(10_000_000_000 + self.state.next_number())
        rtdn = {
            "version": "1.0",
            "packageName": self.config.package_name,
            "eventTimeMillis": str(now_ms()),
            "subscriptionNotification": {
                "version": "1.0",
                "notificationType": notification_type,
                "purchaseToken": token,
            },
        }
        body = {
            "message": {
                "data": base64.b64encode(json.dumps(rtdn).encode()).decode(),
                "messageId": message_id,
                "publishTime": rfc3339(now_ms()),
                "attributes": {},
            },
            "subscription": "projects/masthead-sandbox/subscriptions/play-rtdn",
        }
        return body, message_id

    def push_token(self, *, audience: str | None = None, lifetime: int = 3600) -> str:
        """The OIDC token Pub/Sub puts in the push's ``Authorization`` header."""
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": audience or self.config.push_url,
            "azp": "sandbox-pubsub",
            "sub": "1000000000000000000001",
            "email": self.config.service_account,
            "email_verified": True,
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(
            claims, self.signer.key_pem(), algorithm="RS256", headers={"kid": self.signer.key_id}
        )
