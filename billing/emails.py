"""Billing's emails to the reader, one per fact Stripe reports."""

import logging

from django.conf import settings

from billing.models import Subscription
from membership.emails import email_build

logger = logging.getLogger(__name__)

ACCOUNT_PATH = "/account/"


def _send(*, subscription: Subscription, template: str, event_id: str, **context: object) -> None:
    user = subscription.user
    if user is None or not user.email:
        return
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
    message.send()
    logger.info(
        "Sent %s email for subscription %s to user %s (event %s)",
        template,
        subscription.stripe_id,
        user.pk,
        event_id,
    )


def payment_failed_send(*, subscription: Subscription, event_id: str) -> None:
    """Tell the reader a payment failed, and where to update the card."""
    _send(subscription=subscription, template="payment_failed", event_id=event_id)


def payment_action_required_send(
    *, subscription: Subscription, invoice_url: str, event_id: str
) -> None:
    """Ask the reader to confirm a payment with their bank, at Stripe's invoice page."""
    _send(
        subscription=subscription,
        template="payment_action_required",
        event_id=event_id,
        invoice_url=invoice_url,
    )


def card_trial_ending_send(*, subscription: Subscription, event_id: str) -> None:
    """Tell the reader their card trial ends soon and the first charge is coming."""
    _send(subscription=subscription, template="card_trial_ending", event_id=event_id)


def subscription_ended_send(*, subscription: Subscription, event_id: str) -> None:
    """Tell the reader their subscription has ended."""
    _send(subscription=subscription, template="subscription_ended", event_id=event_id)
