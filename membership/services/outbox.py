"""The outbox: every email to a reader is a row first, written once per fact, sent after
commit (DESIGN.md rule 12).

- ``outbox_add`` is called inside the transaction that records the fact. The row's key
  (kind, object, fact) is unique, so recording the fact again (a redelivered task, a second
  worker, a re-run sweep) finds the row and queues nothing.
- ``outbox_messages_drain`` sends the rows never tried yet: a nudge per burst of emails
  (``membership.tasks``) wakes one sender, which leases them a batch at a time
  (``sending`` until ``lease_until``), hands each to the mail server through one connection,
  then marks it ``sent``. Two senders never hold the same row at once.
- ``outbox_message_deliver`` does the same for one row: a retry, or the re-drive's.
- ``outbox_unsent_ids`` gives the beat re-drive the rows whose nudge was lost (broker down,
  worker killed) and the rows whose sender died while holding them.

The window left: a sender that dies after the mail server accepted the message and before
its ``UPDATE … sent`` committed (one statement, milliseconds) leaves the row ``sending``;
once the lease ends the re-drive sends it again. That second copy carries the same
``Message-ID``, which many mailbox providers fold into the first. A mail server that accepts
a message and drops the connection before answering is the same case.
"""

import contextlib
import logging
import smtplib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from core.db import rows_claim_batch
from membership.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# Sent after commit for each new outbox row, with ``message_id``: the nudge to send it now.
outbox_message_recorded = Signal()


def outbox_add(
    *,
    kind: str,
    object_ref: str,
    fact: str,
    message: EmailMultiAlternatives,
    user: Any = None,
) -> tuple[OutboxMessage, bool]:
    """Record ``message`` (built by ``membership.emails``, one recipient) as the email of one
    fact, once, in the caller's transaction; return the row and whether this call wrote it. A
    new row is queued for sending when the transaction commits; an existing one (the fact was
    recorded before) is left as it is."""
    html = next((body for body, mime in message.alternatives if mime == "text/html"), "")
    try:
        with transaction.atomic():
            row = OutboxMessage.objects.create(
                kind=kind,
                object_ref=object_ref,
                fact=fact,
                user=user,
                to=message.to[0],
                subject=message.subject[:300],
                body=str(message.body),
                html=str(html),
            )
    except IntegrityError:
        row = OutboxMessage.objects.get(kind=kind, object_ref=object_ref, fact=fact)
        logger.info("Email %s for %s (%s) was recorded before; not again", kind, object_ref, fact)
        return row, False
    transaction.on_commit(partial(_nudge, row.pk), robust=True)
    logger.info("Recorded email %s for %s (%s) as outbox row %s", kind, object_ref, fact, row.pk)
    return row, True


def _nudge(message_id: int) -> None:
    """Tell the receivers a row waits (``membership.receivers`` queues its send task)."""
    outbox_message_recorded.send(sender=OutboxMessage, message_id=message_id)


def _lease_take(message_id: int) -> OutboxMessage | None:
    """Lease the row to this sender if it waits, or if its last sender's lease ran out."""
    now = timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_SEND_LEASE_SECONDS)
    free = Q(status=OutboxStatus.PENDING) | Q(status=OutboxStatus.SENDING, lease_until__lte=now)
    taken = OutboxMessage.objects.filter(free, pk=message_id).update(
        status=OutboxStatus.SENDING, lease_until=now + lease, attempts=F("attempts") + 1
    )
    if not taken:
        return None
    return OutboxMessage.objects.get(pk=message_id)


def _message(row: OutboxMessage) -> EmailMultiAlternatives:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "masthead.localhost"
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body,
        to=[row.to],
        headers={"Message-ID": f"<outbox-{row.pk}.{row.created_at:%Y%m%d%H%M%S}@{domain}>"},
    )
    if row.html:
        message.attach_alternative(row.html, "text/html")
    return message


def outbox_message_deliver(*, message_id: int) -> str:
    """Send one recorded email unless it is sent, given up, or leased to another sender;
    return the status it is left in ("skipped" when another sender holds it). A mail error
    leaves the row pending (``failed`` once the server refuses the recipient or after
    ``OUTBOX_MAX_ATTEMPTS``) and propagates, so the task retries."""
    row = _lease_take(message_id)
    if row is None:
        return "skipped"
    mail = get_connection()
    try:
        status, error = _send_leased(row, mail)
    finally:
        _mail_close(mail)
    if error is not None and status == OutboxStatus.PENDING:
        raise error
    return status


@dataclass
class OutboxDrained:
    """What a drain did: how many emails it sent, which wait for a retry, and whether it
    stopped at its time limit with emails still waiting."""

    sent: int = 0
    retry: list[int] = field(default_factory=list)
    more_waiting: bool = False


def outbox_messages_drain() -> OutboxDrained:
    """Send every email waiting for its first try, oldest first, through one connection to
    the mail server: ``OUTBOX_DRAIN_BATCH`` rows leased at a time, for up to
    ``OUTBOX_DRAIN_SECONDS``. Each row is still leased, marked sent at once after the mail
    server took it, and on a mail error left pending (``retry``: the caller retries it) or
    failed, as a single send leaves it; the connection is opened again for the next row."""
    drained = OutboxDrained()
    deadline = time.monotonic() + settings.OUTBOX_DRAIN_SECONDS
    mail = get_connection()
    try:
        while True:
            rows = _lease_batch(limit=settings.OUTBOX_DRAIN_BATCH)
            leased_at = time.monotonic()
            for index, row in enumerate(rows):
                if time.monotonic() - leased_at >= settings.OUTBOX_SEND_LEASE_SECONDS / 2:
                    _lease_release(rows[index:])  # the lease would run out mid-send
                    drained.more_waiting = True
                    return drained
                status, _ = _send_leased(row, mail)
                drained.sent += status == OutboxStatus.SENT
                if status == OutboxStatus.PENDING:
                    drained.retry.append(row.pk)
            if len(rows) < settings.OUTBOX_DRAIN_BATCH:
                return drained
            if time.monotonic() > deadline:
                drained.more_waiting = True
                return drained
    finally:
        _mail_close(mail)


def _lease_batch(*, limit: int) -> list[OutboxMessage]:
    """Lease up to ``limit`` rows never tried yet (pending, no attempt) to this sender; the
    rows another sender is leasing at this moment are skipped. Rows tried before wait for
    their own retry (with its back-off) or for the re-drive."""
    adapt = connection.ops.adapt_datetimefield_value
    until = timezone.now() + timedelta(seconds=settings.OUTBOX_SEND_LEASE_SECONDS)
    return rows_claim_batch(
        OutboxMessage,
        waiting="status = %s AND attempts = 0",
        waiting_params=[OutboxStatus.PENDING],
        changes="status = %s, attempts = attempts + 1, lease_until = %s",
        changes_params=[OutboxStatus.SENDING, adapt(until)],
        limit=limit,
    )


def _lease_release(rows: list[OutboxMessage]) -> None:
    """Give rows leased and not tried back to the drains, their attempt not counted."""
    for row in rows:
        _this_lease(row).update(status=OutboxStatus.PENDING, lease_until=None, attempts=0)


def _this_lease(row: OutboxMessage) -> QuerySet[OutboxMessage]:
    """The row while this sender still holds it (a sender that took it over after the lease
    ran out counted another attempt)."""
    return OutboxMessage.objects.filter(
        pk=row.pk, status=OutboxStatus.SENDING, attempts=row.attempts
    )


def _send_leased(row: OutboxMessage, mail: BaseEmailBackend) -> tuple[str, OSError | None]:
    """Hand a leased row to the mail server and record what became of it; return its status
    and the mail error, if any. After an error the connection is closed (the next send
    opens it again)."""
    try:
        mail.open()  # a no-op while it is open
        mail.send_messages([_message(row)])
    except OSError as exc:  # smtplib.SMTPException is an OSError, as is a refused connection
        _mail_close(mail)
        refused = isinstance(exc, smtplib.SMTPRecipientsRefused)
        given_up = refused or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        status = OutboxStatus.FAILED if given_up else OutboxStatus.PENDING
        _this_lease(row).update(status=status, lease_until=None, last_error=repr(exc)[:4000])
        logger.warning(
            "Could not send email %s (outbox row %s, attempt %s): %r; %s",
            row.kind,
            row.pk,
            row.attempts,
            exc,
            "given up" if given_up else "will retry",
        )
        return status, exc
    _this_lease(row).update(status=OutboxStatus.SENT, sent_at=timezone.now(), lease_until=None)
    logger.info(
        "Sent email %s for %s (%s) to user %s (outbox row %s)",
        row.kind,
        row.object_ref,
        row.fact,
        row.user_id,
        row.pk,
    )
    return OutboxStatus.SENT, None


def _mail_close(mail: BaseEmailBackend) -> None:
    """Close the connection; one the server already dropped may fail to close, which is
    no error here."""
    with contextlib.suppress(OSError):
        mail.close()


def outbox_unsent_ids(*, limit: int = 1000) -> list[int]:
    """Return rows to send again: pending for longer than ``OUTBOX_REDRIVE_AFTER`` seconds
    (their nudge was lost or their send failed), or left ``sending`` by a sender whose lease
    ran out (it died)."""
    now = timezone.now()
    waiting = Q(
        status=OutboxStatus.PENDING,
        created_at__lt=now - timedelta(seconds=settings.OUTBOX_REDRIVE_AFTER),
    )
    abandoned = Q(status=OutboxStatus.SENDING, lease_until__lte=now)
    rows = OutboxMessage.objects.filter(waiting | abandoned).order_by("created_at", "pk")
    return list(rows.values_list("pk", flat=True)[:limit])
