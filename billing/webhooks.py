"""Stripe's door into Masthead: verify the signature, store the event once, nudge a worker
(one per burst), answer 200. Nothing is applied in the request."""

import logging

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import nudges, stripe_gateway
from billing.errors import BillingError
from billing.events import webhook_event_store
from billing.tasks import webhook_event_apply
from core.api import error_body

logger = logging.getLogger(__name__)


def _nudge(event_id: int) -> None:
    """Wake a worker for the event unless a nudge is pending already (its worker drains
    this event too); if the broker is down, the re-drive task queues the row."""
    if not nudges.nudge_claim():
        return
    try:
        webhook_event_apply.delay(event_id)
    except Exception:  # any broker failure: the row is stored, beat re-drives it
        nudges.nudge_taken()
        logger.exception("Could not queue stored event row %s; it waits for the re-drive", event_id)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Accept a signed Stripe event: 400 and nothing stored unless the signature holds."""
    try:
        event = stripe_gateway.event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except BillingError as exc:
        logger.warning("Refused a webhook request: %s", exc.message)
        return JsonResponse(error_body(exc.code, exc.message), status=400)
    stored, created = webhook_event_store(event=event)
    if created:
        _nudge(stored.pk)
    return JsonResponse({"received": True, "duplicate": not created})
