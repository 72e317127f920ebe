"""Emails go out a burst at a time: the rows recorded while a nudge is pending queue no task
of their own, and the sender it wakes sends every row never tried, through one connection to
the mail server. A row whose first try fails goes on to its own retries; nothing recorded is
lost when a nudge is, or when the broker refuses one."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from smtplib import SMTPRecipientsRefused, SMTPServerDisconnected
from threading import Barrier
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from membership import tasks
from membership.emails import email_build
from membership.models import OutboxMessage
from membership.services import outbox_add, outbox_messages_drain
from tests.membership.conftest import mail_failing

pytestmark = pytest.mark.django_db


def record(number: int) -> OutboxMessage:
    """Record one email in its own transaction, as a webhook or a sweep does."""
    message = email_build(
        template="billing/email/subscription_ended",
        to=f"reader{number}@example.com",
        context={"plan_name": "Complete", "account_url": "http://masthead.example/account/"},
    )
    with transaction.atomic():
        row, _ = outbox_add(
            kind="billing.subscription_ended", object_ref=f"subscription:sub_{number}",
            fact="ended", message=message,
        )  # fmt: skip
    return row


@pytest.fixture
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """The send tasks queued by the nudges, held back (not run) so the test runs them."""
    queued: list[None] = []
    monkeypatch.setattr(tasks.outbox_messages_send, "delay", lambda: queued.append(None))
    return queued


@pytest.fixture
def connections_opened(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """Each connection to the mail server a sender makes (``get_connection``)."""
    made: list[None] = []
    real = mail.get_connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(None)
        return real(*args, **kwargs)

    monkeypatch.setattr("membership.services.outbox.get_connection", counted)
    return made


def statuses() -> dict[str, tuple[str, int]]:
    return {row.to: (row.status, row.attempts) for row in OutboxMessage.objects.all()}


def test_a_burst_of_emails_is_one_nudge_and_one_connection(
    nudges: list[None], connections_opened: list[None], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        rows = [record(number) for number in range(5)]

    assert len(nudges) == 1, "the four recorded while the first nudge was pending queued none"
    assert tasks.outbox_messages_send.apply().get() == 5
    assert connections_opened == [None]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(row.to for row in rows)
    assert set(statuses().values()) == {("sent", 1)}


def test_an_email_recorded_once_the_sender_started_queues_a_nudge_of_its_own(
    nudges: list[None], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        record(1)
    tasks.outbox_messages_send.apply()  # the sender lowers the flag as it starts
    with django_capture_on_commit_callbacks(execute=True):
        record(2)

    assert len(nudges) == 2
    tasks.outbox_messages_send.apply()
    assert len(mail.outbox) == 2


def test_a_lost_nudge_holds_the_next_ones_back_only_until_its_flag_runs_out(
    nudges: list[None], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        record(1)  # its nudge is lost: never run
    cache.clear()  # the flag runs out after OUTBOX_NUDGE_SECONDS
    with django_capture_on_commit_callbacks(execute=True):
        record(2)

    assert len(nudges) == 2
    assert tasks.outbox_messages_send.apply().get() == 2, "the lost nudge's email goes too"


def test_a_refused_nudge_lowers_the_flag_and_the_emails_wait_for_the_redrive(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    tries: list[None] = []

    def refused() -> None:
        tries.append(None)
        raise OperationalError("broker down")

    monkeypatch.setattr(tasks.outbox_messages_send, "delay", refused)
    with django_capture_on_commit_callbacks(execute=True):
        record(1)
        record(2)

    assert len(tries) == 2, "each email tries while the broker is down"
    assert set(statuses().values()) == {("pending", 0)}
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_REDRIVE_AFTER + 1)
    with time_machine.travel(later):
        assert tasks.outbox_redrive.delay().get() == 2  # as beat sends it every minute
    assert set(statuses().values()) == {("sent", 1)}


def test_the_first_try_failing_hands_the_row_to_its_own_retries(
    retries_inline: None, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        mail_failing(None, SMTPServerDisconnected("connection lost")),  # the second fails
        django_capture_on_commit_callbacks(execute=True),
    ):
        for number in range(3):
            record(number)

    assert statuses() == {
        "reader0@example.com": ("sent", 1),
        "reader1@example.com": ("sent", 2),  # its retry (run inline here) sent it
        "reader2@example.com": ("sent", 1),  # the connection was opened again for it
    }
    assert (
        "SMTPServerDisconnected" in OutboxMessage.objects.get(to="reader1@example.com").last_error
    )
    assert len(mail.outbox) == 3


def test_a_refused_recipient_is_given_up_and_the_others_go_out(
    django_capture_on_commit_callbacks: Any,
) -> None:
    deliver = EmailBackend.send_messages

    def refuse_one(backend: EmailBackend, messages: list[Any]) -> int:
        if messages[0].to == ["reader1@example.com"]:
            raise SMTPRecipientsRefused({"reader1@example.com": (550, b"no such user")})
        return deliver(backend, messages)

    retry = mock.patch.object(tasks.outbox_message_send, "apply_async")
    with (
        mock.patch.object(EmailBackend, "send_messages", refuse_one),
        retry as retried,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for number in range(3):
            record(number)

    assert statuses()["reader1@example.com"] == ("failed", 1)
    assert retried.call_count == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["reader0@example.com", "reader2@example.com"]


def test_rows_tried_before_are_left_to_their_own_retry(nudges: list[None]) -> None:
    tried = record(1)
    OutboxMessage.objects.filter(pk=tried.pk).update(attempts=1, last_error="timed out")
    record(2)

    drained = outbox_messages_drain()

    assert (drained.sent, drained.retry, drained.more_waiting) == (1, [], False)
    assert statuses()["reader1@example.com"] == ("pending", 1)


def test_a_sender_short_of_lease_gives_its_rows_back_untried(
    nudges: list[None], settings: Any
) -> None:
    settings.OUTBOX_SEND_LEASE_SECONDS = 0  # no time is left to send under the lease
    for number in range(3):
        record(number)

    drained = outbox_messages_drain()

    assert (drained.sent, drained.more_waiting) == (0, True)
    assert set(statuses().values()) == {("pending", 0)}, "their next sender counts from zero"
    assert mail.outbox == []


def test_a_sender_sends_in_batches_and_hands_on_at_its_time_limit(
    nudges: list[None], settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.OUTBOX_DRAIN_BATCH = 2
    settings.OUTBOX_DRAIN_SECONDS = 0  # one batch, then hand on
    for number in range(5):
        record(number)

    with django_assert_max_num_queries(3):  # claim two, mark each sent
        first = outbox_messages_drain()
    settings.OUTBOX_DRAIN_SECONDS = 30
    rest = outbox_messages_drain()

    assert (first.sent, first.more_waiting) == (2, True)
    assert (rest.sent, rest.more_waiting) == (3, False)
    assert len(mail.outbox) == 5


@pytest.mark.django_db(transaction=True)
def test_of_senders_draining_at_once_each_email_goes_out_once(nudges: list[None]) -> None:
    for number in range(30):
        record(number)
    senders = 4
    start = Barrier(senders)

    def drain(_: int) -> int:
        try:
            start.wait()
            return outbox_messages_drain().sent
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=senders) as pool:
        sent = list(pool.map(drain, range(senders)))

    assert sum(sent) == 30
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        f"reader{n}@example.com" for n in range(30)
    )
    assert set(statuses().values()) == {("sent", 1)}
