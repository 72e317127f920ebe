"""What each Stripe event type does: ``{event type: handler}``. Unknown types are ignored.

Handlers never trust the event's copy of an object: events come late, twice and out of
order, so each applies the newest state from Stripe, fetched unless a fetch begun after the
event was stored has already applied it.
"""

import logging
from collections.abc import Callable
from typing import Any

from billing import emails, services
from billing.models import Subscription, WebhookEvent

logger = logging.getLogger(__name__)

Handler = Callable[[WebhookEvent], None]


def _object(event: WebhookEvent) -> dict[str, Any]:
    obj: dict[str, Any] = event.payload["data"]["object"]
    return obj


def _sync(subscription_id: str, event: WebhookEvent) -> Subscription:
    return services.subscription_sync(subscription_id=subscription_id, event_row_id=event.pk)


def _refresh(subscription_id: str, event: WebhookEvent) -> None:
    services.subscription_refresh(subscription_id=subscription_id, event_row_id=event.pk)


def _invoice_subscription_id(invoice: dict[str, Any]) -> str:
    """The subscription an invoice bills (``parent`` in current API versions)."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    found = details.get("subscription") or invoice.get("subscription") or ""
    return services.stripe_id_of(found)


def checkout_completed(event: WebhookEvent) -> None:
    session = _object(event)
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return
    services.checkout_session_apply(session=session)


def subscription_changed(event: WebhookEvent) -> None:
    subscription_id = _object(event)["id"]
    previous = event.payload["data"].get("previous_attributes") or {}
    if "default_payment_method" in previous:  # the reader replaced the card
        services.subscription_payment_retry(subscription=_sync(subscription_id, event))
    else:
        _refresh(subscription_id, event)


def subscription_deleted(event: WebhookEvent) -> None:
    subscription = _sync(_object(event)["id"], event)
    emails.subscription_ended_send(subscription=subscription, event_id=event.stripe_id)


def trial_will_end(event: WebhookEvent) -> None:
    subscription = _sync(_object(event)["id"], event)
    emails.card_trial_ending_send(subscription=subscription, event_id=event.stripe_id)


def invoice_paid(event: WebhookEvent) -> None:
    subscription_id = _invoice_subscription_id(_object(event))
    if subscription_id:
        _refresh(subscription_id, event)


def invoice_payment_failed(event: WebhookEvent) -> None:
    subscription_id = _invoice_subscription_id(_object(event))
    if subscription_id:
        invoice = _object(event)
        subscription = _sync(subscription_id, event)
        emails.payment_failed_send(
            subscription=subscription,
            event_id=event.stripe_id,
            invoice_id=invoice.get("id") or "",
            attempt=invoice.get("attempt_count"),
        )


def invoice_action_required(event: WebhookEvent) -> None:
    invoice = _object(event)
    subscription_id = _invoice_subscription_id(invoice)
    if subscription_id:
        subscription = _sync(subscription_id, event)
        services.subscription_authentication_note(
            subscription=subscription, invoice_id=invoice.get("id", "")
        )
        emails.payment_action_required_send(
            subscription=subscription,
            invoice_url=invoice.get("hosted_invoice_url") or "",
            event_id=event.stripe_id,
            invoice_id=invoice.get("id") or "",
            attempt=invoice.get("attempt_count"),
        )


def customer_deleted(event: WebhookEvent) -> None:
    services.customer_forget(stripe_id=_object(event)["id"])


EVENT_HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": checkout_completed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.paused": subscription_changed,
    "customer.subscription.resumed": subscription_changed,
    "customer.subscription.deleted": subscription_deleted,
    "customer.subscription.trial_will_end": trial_will_end,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "invoice.payment_action_required": invoice_action_required,
    "customer.deleted": customer_deleted,
}
