"""Billing's emails are outbox rows, one per fact Stripe reports: an event applied twice, or
two events reporting one fact, email the reader once; a new fact emails again."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing import emails
from billing.models import Subscription
from membership.models import OutboxMessage
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription() -> Subscription:
    return SubscriptionFactory(
        stripe_id="sub_emails",
        customer_stripe_id="cus_emails",
        plan=PlanFactory(name="Complete"),
        status="canceled",
    )


@pytest.fixture
def sent(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Run a block and send what it recorded, after commit, as the worker would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_the_membership_ended_email_goes_once_whatever_repeats_it(subscription, sent) -> None:  # type: ignore[no-untyped-def]
    with sent():
        assert emails.subscription_ended_send(subscription=subscription, event_id="evt_1")
        assert not emails.subscription_ended_send(subscription=subscription, event_id="evt_1")
        assert not emails.subscription_ended_send(subscription=subscription, event_id="evt_2")

    (message,) = mail.outbox
    assert message.to == [subscription.user.email]
    assert message.subject == "Your Complete membership has ended"
    row = OutboxMessage.objects.get()
    assert (row.kind, row.object_ref, row.fact, row.status, row.user_id) == (
        "billing.subscription_ended", "subscription:sub_emails", "ended", "sent",
        subscription.user_id,
    )  # fmt: skip


def test_each_failed_payment_attempt_is_told_once(subscription, sent) -> None:  # type: ignore[no-untyped-def]
    with sent():
        for event_id, attempt in [("evt_1", 1), ("evt_1", 1), ("evt_2", 2)]:
            emails.payment_failed_send(
                subscription=subscription, event_id=event_id, invoice_id="in_1", attempt=attempt
            )

    assert len(mail.outbox) == 2
    facts = sorted(OutboxMessage.objects.values_list("fact", flat=True))
    assert facts == ["invoice:in_1:attempt:1", "invoice:in_1:attempt:2"]


def test_a_card_trial_moved_to_a_new_end_is_told_again(subscription, sent) -> None:  # type: ignore[no-untyped-def]
    subscription.trial_end = timezone.now() + timedelta(days=3)
    with sent():
        emails.card_trial_ending_send(subscription=subscription, event_id="evt_1")
        emails.card_trial_ending_send(subscription=subscription, event_id="evt_2")
        subscription.trial_end += timedelta(days=7)
        emails.card_trial_ending_send(subscription=subscription, event_id="evt_3")

    assert len(mail.outbox) == 2


def test_a_subscription_without_a_reader_emails_no_one(subscription, sent) -> None:  # type: ignore[no-untyped-def]
    subscription.user = None
    with sent():
        assert not emails.subscription_ended_send(subscription=subscription, event_id="evt_1")

    assert mail.outbox == [] and not OutboxMessage.objects.exists()
