"""The stores' doors into Masthead: verify, store once, nudge a worker, answer at once.
Nothing is applied in the request; a request that does not verify stores nothing (400)."""

import json
import logging

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from appstores.errors import StoreError, StoreErrorCode
from appstores.gateways import apple as apple_gateway
from appstores.gateways import google as google_gateway
from appstores.models import Store
from appstores.notifications import store_notification_record
from appstores.tasks import store_notification_apply
from core.api import error_body

logger = logging.getLogger(__name__)


def _nudge(row_id: int) -> None:
    """Queue the notification for a worker; if the broker is down, the re-drive will."""
    try:
        store_notification_apply.delay(row_id)
    except Exception:  # any broker failure: the row is stored, beat re-drives it
        logger.exception("Could not queue store notification row %s; it waits", row_id)


def _refused(exc: StoreError, store: str) -> JsonResponse:
    logger.warning("Refused a %s notification: %s (%s)", store, exc.message, exc.code)
    return JsonResponse(error_body(exc.code, exc.message), status=exc.status)


def _json(request: HttpRequest) -> object:
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested too deep
        raise StoreError(
            code=StoreErrorCode.MALFORMED, message="The body is not JSON.", status=400
        ) from exc


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def apple_notification(request: HttpRequest) -> JsonResponse:
    """App Store Server Notifications V2: ``{"signedPayload": "<JWS>"}``."""
    try:
        body = _json(request)
        signed = body.get("signedPayload") if isinstance(body, dict) else None
        if not isinstance(signed, str) or not signed:
            raise StoreError(
                code=StoreErrorCode.MALFORMED, message="signedPayload is missing.", status=400
            )
        notification = apple_gateway.notification_verify(signed_payload=signed)
    except StoreError as exc:
        return _refused(exc, Store.APPLE)
    tx = notification.transaction
    row, created = store_notification_record(
        store=Store.APPLE,
        notification_id=notification.uuid,
        type=notification.type,
        subtype=notification.subtype,
        environment=notification.environment,
        external_id=tx.original_transaction_id if tx else "",
        payload=notification.payload,
    )
    if created:
        _nudge(row.pk)
    return JsonResponse({"received": True, "duplicate": not created})


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def google_rtdn(request: HttpRequest) -> JsonResponse:
    """Google Play real-time developer notifications, pushed by Pub/Sub with an OIDC token."""
    try:
        google_gateway.push_verify(authorization=request.headers.get("Authorization", ""))
        notification = google_gateway.push_read(body=_json(request))
    except StoreError as exc:
        return _refused(exc, Store.GOOGLE)
    row, created = store_notification_record(
        store=Store.GOOGLE,
        notification_id=notification.message_id,
        type=str(notification.notification_type or "other"),
        environment="",
        external_id=notification.purchase_token,
        payload=notification.payload,
    )
    if created:
        _nudge(row.pk)
    return JsonResponse({"received": True, "duplicate": not created})
