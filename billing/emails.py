"""Billing's emails to the reader, one per fact Stripe reports.

Each is an outbox row (``membership.services.outbox_add``) keyed by what it is about, the
subscription, and the fact itself (ended; the trial end it announces; the invoice and
payment attempt it reports), so an event applied twice, or a second event reporting the same
fact, finds the row and sends nothing. The row is sent after its transaction commits.
"""

import logging

from django.conf import settings

from billing.models import Subscription
from membership.emails import email_build
from membership.services import outbox_add

logger = logging.getLogger(__name__)

ACCOUNT_PATH = "/account/"


def _record(
    *, subscription: Subscription, template: str, fact: str, event_id: str, **context: object
) -> bool:
    user = subscription.user
    if user is None or not user.email:
        return False
    plan_name = subscription.plan.name if subscription.plan else "Masthead"
    message = email_build(
        template=f"billing/email/{template}",
        to=user.email,
        context={
            "plan_name": plan_name,
            "subscription": subscription,
            "account_url": settings.SITE_URL + ACCOUNT_PATH,
            **context,
        },
    )
    # outbox_add's own transaction (no savepoint around it when none is open already)
    _, recorded = outbox_add(
        kind=f"billing.{template}",
        object_ref=f"subscription:{subscription.stripe_id}",
        fact=fact,
        message=message,
        user=user,
    )
    logger.info(
        "%s %s email for subscription %s to user %s (event %s)",
        "Recorded" if recorded else "Already recorded",
        template,
        subscription.stripe_id,
        user.pk,
        event_id,
    )
    return recorded


def _invoice_fact(invoice_id: str, attempt: int | None, event_id: str) -> str:
    if not invoice_id:
        return f"event:{event_id}"
    return f"invoice:{invoice_id}:attempt:{attempt or 0}"


def payment_failed_send(
    *, subscription: Subscription, event_id: str, invoice_id: str = "", attempt: int | None = None
) -> bool:
    """Tell the reader a payment failed, and where to update the card: once per invoice
    and payment attempt; return whether it was recorded now."""
    return _record(
        subscription=subscription,
        template="payment_failed",
        fact=_invoice_fact(invoice_id, attempt, event_id),
        event_id=event_id,
    )


def payment_action_required_send(
    *,
    subscription: Subscription,
    invoice_url: str,
    event_id: str,
    invoice_id: str = "",
    attempt: int | None = None,
) -> bool:
    """Ask the reader to confirm a payment with their bank, at Stripe's invoice page: once per
    invoice and payment attempt; return whether it was recorded now."""
    return _record(
        subscription=subscription,
        template="payment_action_required",
        fact=_invoice_fact(invoice_id, attempt, event_id),
        event_id=event_id,
        invoice_url=invoice_url,
    )


def card_trial_ending_send(*, subscription: Subscription, event_id: str) -> bool:
    """Tell the reader their card trial ends soon and the first charge is coming: once per
    trial end (a trial moved to a new end is told again); return whether it was recorded now."""
    trial_end = subscription.trial_end
    return _record(
        subscription=subscription,
        template="card_trial_ending",
        fact=f"trial_end:{trial_end.isoformat()}" if trial_end else f"event:{event_id}",
        event_id=event_id,
    )


def subscription_ended_send(*, subscription: Subscription, event_id: str) -> bool:
    """Tell the reader their subscription has ended, once per subscription; return whether it
    was recorded now."""
    return _record(
        subscription=subscription, template="subscription_ended", fact="ended", event_id=event_id
    )
