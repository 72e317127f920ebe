"""Apple's side, through Apple's own ``app-store-server-library``: verify signed data with
``SignedDataVerifier`` (the chain up to the configured roots, Apple's OIDs, ES256, the bundle
id and the environment) and read subscription statuses from the App Store Server API.

The environment is Masthead's setting (``APPLE_ENVIRONMENT``), never the client's: a
notification or transaction of the other environment is refused by the verifier.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from appstoreserverlibrary.api_client import APIException, AppStoreServerAPIClient
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.models.JWSRenewalInfoDecodedPayload import JWSRenewalInfoDecodedPayload
from appstoreserverlibrary.models.JWSTransactionDecodedPayload import JWSTransactionDecodedPayload
from appstoreserverlibrary.signed_data_verifier import (
    SignedDataVerifier,
    VerificationException,
    VerificationStatus,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from appstores.errors import StoreError, StoreErrorCode

logger = logging.getLogger(__name__)

ENVIRONMENTS = {"Sandbox": Environment.SANDBOX, "Production": Environment.PRODUCTION}


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True)
class AppleTransaction:
    """A verified ``JWSTransaction`` of an auto-renewable subscription."""

    original_transaction_id: str
    transaction_id: str
    product_id: str
    app_account_token: str | None
    purchase_date: datetime | None
    expires_date: datetime | None
    environment: str
    revocation_date: datetime | None
    revocation_reason: int | None

    @classmethod
    def of(cls, payload: JWSTransactionDecodedPayload) -> "AppleTransaction":
        return cls(
            original_transaction_id=payload.originalTransactionId or "",
            transaction_id=payload.transactionId or "",
            product_id=payload.productId or "",
            app_account_token=payload.appAccountToken,
            purchase_date=_moment(payload.purchaseDate),
            expires_date=_moment(payload.expiresDate),
            environment=payload.rawEnvironment or "",
            revocation_date=_moment(payload.revocationDate),
            revocation_reason=payload.rawRevocationReason,
        )


@dataclass(frozen=True)
class AppleRenewal:
    """A verified ``JWSRenewalInfo``: whether and into what the subscription renews."""

    auto_renew: bool | None
    auto_renew_product_id: str
    grace_period_expires: datetime | None

    @classmethod
    def of(cls, payload: JWSRenewalInfoDecodedPayload) -> "AppleRenewal":
        status = payload.rawAutoRenewStatus
        return cls(
            auto_renew=None if status is None else status == 1,
            auto_renew_product_id=payload.autoRenewProductId or "",
            grace_period_expires=_moment(payload.gracePeriodExpiresDate),
        )


@dataclass(frozen=True)
class AppleNotification:
    """A verified App Store Server Notification V2."""

    uuid: str
    type: str
    subtype: str
    environment: str
    transaction: AppleTransaction | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class AppleStatus:
    """The newest state of one subscription: Apple's status (1 active, 2 expired, 3 billing
    retry, 4 grace period, 5 revoked), its last transaction and its renewal info."""

    status: int
    transaction: AppleTransaction
    renewal: AppleRenewal | None


@functools.cache
def _roots(paths: tuple[str, ...]) -> list[bytes]:
    return [Path(path).read_bytes() for path in paths]


@functools.lru_cache(maxsize=8)
def _verifier_for(
    paths: tuple[str, ...], online: bool, environment: str, bundle_id: str, app_apple_id: int
) -> SignedDataVerifier:
    """One verifier per configuration, so its cache of checked chains (online) is kept."""
    return SignedDataVerifier(
        root_certificates=_roots(paths),
        enable_online_checks=online,
        environment=ENVIRONMENTS[environment],
        bundle_id=bundle_id,
        app_apple_id=app_apple_id,
    )


def _verifier() -> SignedDataVerifier:
    try:
        return _verifier_for(
            tuple(settings.APPLE_ROOT_CERTIFICATES),
            settings.APPLE_ONLINE_CHECKS,
            settings.APPLE_ENVIRONMENT,
            settings.APPLE_BUNDLE_ID,
            settings.APPLE_APP_APPLE_ID,
        )
    except OSError as exc:
        raise StoreError(
            code=StoreErrorCode.NOT_CONFIGURED,
            message="Apple's root certificates cannot be read.",
            status=503,
        ) from exc


_REFUSALS = {
    VerificationStatus.INVALID_APP_IDENTIFIER: (StoreErrorCode.WRONG_APP, "another app"),
    VerificationStatus.INVALID_ENVIRONMENT: (
        StoreErrorCode.WRONG_ENVIRONMENT,
        "another environment",
    ),
}


def _refusal(exc: VerificationException, what: str) -> StoreError:
    code, why = _REFUSALS.get(exc.status, (StoreErrorCode.BAD_SIGNATURE, "no valid signature"))
    return StoreError(code=code, message=f"The {what} has {why}.", status=400)


def transaction_verify(*, signed_transaction: str) -> AppleTransaction:
    """Verify a ``signedTransaction`` (from the app or the API) and return it."""
    try:
        payload = _verifier().verify_and_decode_signed_transaction(signed_transaction)
    except VerificationException as exc:
        raise _refusal(exc, "transaction") from exc
    return AppleTransaction.of(payload)


def notification_verify(*, signed_payload: str) -> AppleNotification:
    """Verify a notification's ``signedPayload``, and its transaction, and return it."""
    verifier = _verifier()
    try:
        decoded = verifier.verify_and_decode_notification(signed_payload)
        transaction = None
        if decoded.data and decoded.data.signedTransactionInfo:
            transaction = AppleTransaction.of(
                verifier.verify_and_decode_signed_transaction(decoded.data.signedTransactionInfo)
            )
    except VerificationException as exc:
        raise _refusal(exc, "notification") from exc
    environment = decoded.data.rawEnvironment if decoded.data else ""
    payload = {
        "notificationType": decoded.rawNotificationType,
        "subtype": decoded.rawSubtype,
        "notificationUUID": decoded.notificationUUID,
        "signedDate": decoded.signedDate,
        "environment": environment,
        "originalTransactionId": transaction.original_transaction_id if transaction else None,
    }
    return AppleNotification(
        uuid=decoded.notificationUUID or "",
        type=decoded.rawNotificationType or "",
        subtype=decoded.rawSubtype or "",
        environment=environment or "",
        transaction=transaction,
        payload=payload,
    )


class _Client(AppStoreServerAPIClient):
    """Apple's client, aimed at ``APPLE_API_BASE`` when set (the offline stand-in)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stand_in = base_url.rstrip("/")

    def _get_full_url(self, path: str) -> str:
        return (self._stand_in + path) if self._stand_in else str(super()._get_full_url(path))


@functools.cache
def _local_key() -> bytes:
    """A key for the stand-in, which reads the token's claims but not its signature."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _client() -> _Client:
    key = settings.APPLE_API_PRIVATE_KEY.encode()
    if not key and settings.APPLE_API_BASE:
        key = _local_key()
    return _Client(
        settings.APPLE_API_BASE,
        signing_key=key,
        key_id=settings.APPLE_API_KEY_ID,
        issuer_id=settings.APPLE_API_ISSUER_ID,
        bundle_id=settings.APPLE_BUNDLE_ID,
        environment=ENVIRONMENTS[settings.APPLE_ENVIRONMENT],
    )


def subscription_status_fetch(*, transaction_id: str) -> AppleStatus:
    """Fetch the newest state of the subscription holding ``transaction_id`` from the App Store
    Server API, verifying what Apple signed in it."""
    try:
        answer = _client().get_all_subscription_statuses(transaction_id)
    except APIException as exc:
        refused = exc.http_status_code in (400, 404)
        raise StoreError(
            code=StoreErrorCode.UNKNOWN_PURCHASE if refused else StoreErrorCode.STORE_UNAVAILABLE,
            message=f"The App Store answered {exc.http_status_code}.",
            status=400 if refused else 503,
        ) from exc
    except (requests.RequestException, OSError) as exc:
        raise StoreError(
            code=StoreErrorCode.STORE_UNAVAILABLE,
            message="The App Store cannot be reached.",
            status=503,
        ) from exc
    verifier = _verifier()
    for group in answer.data or []:
        for item in group.lastTransactions or []:
            if not item.signedTransactionInfo:
                continue
            try:
                transaction = AppleTransaction.of(
                    verifier.verify_and_decode_signed_transaction(item.signedTransactionInfo)
                )
                renewal = (
                    AppleRenewal.of(verifier.verify_and_decode_renewal_info(item.signedRenewalInfo))
                    if item.signedRenewalInfo
                    else None
                )
            except VerificationException as exc:
                raise _refusal(exc, "App Store's answer") from exc
            if transaction_id in (transaction.original_transaction_id, transaction.transaction_id):
                return AppleStatus(item.rawStatus or 0, transaction, renewal)
    raise StoreError(
        code=StoreErrorCode.UNKNOWN_PURCHASE,
        message="The App Store knows no subscription with this transaction.",
        status=400,
    )
