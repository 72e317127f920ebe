"""The outbox: one row per fact, written with the fact, sent after commit by one sender at a
time, marked sent; rows left behind are re-driven, and a refused recipient is given up."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from smtplib import SMTPRecipientsRefused
from threading import Barrier
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction

from membership.emails import email_build
from membership.models import OutboxMessage
from membership.services import outbox_add, outbox_message_deliver, outbox_unsent_ids
from membership.services.outbox import _lease_take
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def record(fact: str = "ended", to: str = "reader@example.com") -> tuple[OutboxMessage, bool]:
    message = email_build(
        template="billing/email/subscription_ended",
        to=to,
        context={"plan_name": "Complete", "account_url": "http://masthead.example/account/"},
    )
    return outbox_add(
        kind="billing.subscription_ended", object_ref="subscription:sub_1", fact=fact,
        message=message,
    )  # fmt: skip


def test_a_fact_recorded_twice_is_one_row_and_one_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as nudges:
        first, wrote_first = record()
        again, wrote_again = record()

    assert (wrote_first, wrote_again) == (True, False)
    assert first.pk == again.pk and OutboxMessage.objects.count() == 1
    assert len(nudges) == 1
    (sent,) = mail.outbox
    assert sent.to == ["reader@example.com"] and sent.subject.endswith("membership has ended")
    assert [mime for _, mime in sent.alternatives] == ["text/html"]
    assert sent.extra_headers["Message-ID"].startswith(f"<outbox-{first.pk}.")
    first.refresh_from_db()
    assert (first.status, first.attempts, first.lease_until) == ("sent", 1, None)
    assert first.sent_at is not None


def test_nothing_is_sent_when_the_transaction_that_records_the_fact_rolls_back(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        record()
        raise RuntimeError("the fact is not recorded after all")

    assert OutboxMessage.objects.count() == 0
    assert mail.outbox == []


def test_another_fact_about_the_same_object_is_its_own_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record(fact="invoice:in_1:attempt:1")
        record(fact="invoice:in_1:attempt:2")

    assert len(mail.outbox) == 2


def test_a_row_leased_to_a_live_sender_is_not_sent_by_another_until_the_lease_ends(settings):
    with time_machine.travel(NOW, tick=False) as clock:
        row, _ = record()
        assert _lease_take(row.pk) is not None  # a sender holds it, mid-conversation

        assert outbox_message_deliver(message_id=row.pk) == "skipped"
        assert outbox_unsent_ids() == []
        assert mail.outbox == []

        clock.shift(timedelta(seconds=settings.OUTBOX_SEND_LEASE_SECONDS))  # that sender died
        assert outbox_unsent_ids() == [row.pk]
        assert outbox_message_deliver(message_id=row.pk) == "sent"

    (sent,) = mail.outbox
    assert sent.extra_headers["Message-ID"].startswith(f"<outbox-{row.pk}.")
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert outbox_message_deliver(message_id=row.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_a_pending_row_whose_nudge_was_lost_is_re_driven_after_a_while(settings):
    with time_machine.travel(NOW, tick=False) as clock:
        row, _ = record()
        assert outbox_unsent_ids() == []
        clock.shift(timedelta(seconds=settings.OUTBOX_REDRIVE_AFTER + 1))
        assert outbox_unsent_ids() == [row.pk]
        outbox_message_deliver(message_id=row.pk)
        assert outbox_unsent_ids() == []


def test_a_refused_recipient_is_given_up_at_once_and_not_re_driven(settings):
    refused = SMTPRecipientsRefused({"reader@example.com": (550, b"No such user")})
    with time_machine.travel(NOW, tick=False) as clock:
        row, _ = record()
        with mock.patch.object(EmailBackend, "send_messages", side_effect=refused):
            assert outbox_message_deliver(message_id=row.pk) == "failed"
        clock.shift(timedelta(hours=1))
        assert outbox_unsent_ids() == []

    row.refresh_from_db()
    assert (row.status, row.lease_until) == ("failed", None)
    assert "No such user" in row.last_error


def test_a_mail_server_error_leaves_the_row_pending_until_the_last_attempt(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    row, _ = record()
    with mock.patch.object(EmailBackend, "send_messages", side_effect=ConnectionRefusedError):
        with pytest.raises(ConnectionRefusedError):
            outbox_message_deliver(message_id=row.pk)
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("pending", 1)
        assert outbox_message_deliver(message_id=row.pk) == "failed"

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)
    assert mail.outbox == []


def test_the_row_keeps_the_reader_and_shows_in_the_admin(admin_client):
    reader = UserFactory()
    message = email_build(
        template="membership/email/trial_reminder",
        to=reader.email,
        context={"ends_at": NOW, "days_left": 3},
    )
    row, _ = outbox_add(
        kind="trial_reminder", object_ref="trial:1", fact="reminder", message=message, user=reader
    )

    listing = admin_client.get("/admin/membership/outboxmessage/")
    assert listing.status_code == 200
    assert reader.email in listing.content.decode()
    assert row.user == reader


@pytest.mark.django_db(transaction=True)
def test_of_senders_racing_for_one_row_exactly_one_sends() -> None:
    with mock.patch("membership.services.outbox._nudge"):  # the senders below are the nudges
        row, _ = record()
    senders = 6
    start = Barrier(senders)

    def send(_: int) -> str:
        try:
            start.wait()
            return outbox_message_deliver(message_id=row.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=senders) as pool:
        outcomes = list(pool.map(send, range(senders)))

    assert sorted(outcomes) == ["sent"] + ["skipped"] * (senders - 1)
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get().attempts == 1
