"""What each handled Stripe event type does (``billing.events`` maps types to these).

Handlers never trust the event's copy of an object: events come late, twice and out of
order, so each applies the newest state from Stripe, fetched unless a fetch begun after the
event was stored has already applied it.
"""

import logging
from collections.abc import Callable

from billing import emails, one_time, services
from billing.models import Subscription, WebhookEvent
from billing.stripe_gateway import StripeEvent

logger = logging.getLogger(__name__)

Handler = Callable[[WebhookEvent], None]


def _event(row: WebhookEvent) -> StripeEvent:
    return StripeEvent.from_api(row.payload)


def _sync(subscription_id: str, row: WebhookEvent) -> Subscription:
    return services.subscription_sync(subscription_id=subscription_id, event_row_id=row.pk)


def checkout_completed(row: WebhookEvent) -> None:
    session = _event(row).checkout_session()
    if session.mode == "payment":
        one_time.one_time_payment_sync(session_id=session.id)
        return
    if session.mode != "subscription" or not session.subscription_id:
        return
    services.checkout_session_apply(session=session)


def _refresh(subscription_id: str, row: WebhookEvent) -> None:
    services.subscription_event_refresh(subscription_id=subscription_id, event_row_id=row.pk)


def checkout_payment_settled(row: WebhookEvent) -> None:
    """A bank debit of a payment-mode session settled (or failed): apply it as Stripe has it."""
    session = _event(row).checkout_session()
    if session.mode == "payment":
        failed = row.type == "checkout.session.async_payment_failed"
        one_time.one_time_payment_sync(session_id=session.id, debit_failed=failed)


def charge_refunded(row: WebhookEvent) -> None:
    one_time.one_time_payment_refund(charge=_event(row).charge())


def subscription_changed(row: WebhookEvent) -> None:
    event = _event(row)
    if not event.card_replaced:
        _refresh(event.object_id, row)
        return
    subscription = _sync(event.object_id, row)  # the reader replaced the card
    services.subscription_payment_retry(subscription=subscription)


def subscription_deleted(row: WebhookEvent) -> None:
    subscription = _sync(_event(row).object_id, row)
    emails.subscription_ended_send(subscription=subscription, event_id=row.stripe_id)


def trial_will_end(row: WebhookEvent) -> None:
    subscription = _sync(_event(row).object_id, row)
    emails.card_trial_ending_send(subscription=subscription, event_id=row.stripe_id)


def invoice_paid(row: WebhookEvent) -> None:
    invoice = _event(row).invoice()
    if invoice.subscription_id:
        _refresh(invoice.subscription_id, row)


def invoice_payment_failed(row: WebhookEvent) -> None:
    invoice = _event(row).invoice()
    if invoice.subscription_id:
        subscription = _sync(invoice.subscription_id, row)
        emails.payment_failed_send(
            subscription=subscription,
            event_id=row.stripe_id,
            invoice_id=invoice.id,
            attempt=invoice.attempt_count,
        )


def invoice_action_required(row: WebhookEvent) -> None:
    invoice = _event(row).invoice()
    if invoice.subscription_id:
        subscription = _sync(invoice.subscription_id, row)
        services.subscription_authentication_note(subscription=subscription, invoice_id=invoice.id)
        emails.payment_action_required_send(
            subscription=subscription,
            invoice_url=invoice.hosted_invoice_url,
            event_id=row.stripe_id,
            invoice_id=invoice.id,
            attempt=invoice.attempt_count,
        )


def customer_deleted(row: WebhookEvent) -> None:
    services.customer_forget(stripe_id=_event(row).object_id)
