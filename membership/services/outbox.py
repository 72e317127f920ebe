"""The outbox: every email to a reader is a row first, written once per fact, sent after
commit (DESIGN.md rule 12).

- ``outbox_add`` is called inside the transaction that records the fact. The row's key
  (kind, object, fact) is unique, so recording the fact again (a redelivered task, a second
  worker, a re-run sweep) finds the row and queues nothing.
- ``outbox_message_deliver`` leases one row (``sending`` until ``lease_until``), hands it to
  the mail server, then marks it ``sent``. Two senders never hold the same row at once.
- ``outbox_unsent_ids`` gives the beat re-drive the rows whose nudge was lost (broker down,
  worker killed) and the rows whose sender died while holding them.

The window left: a sender that dies after the mail server accepted the message and before
its ``UPDATE … sent`` committed (one statement, milliseconds) leaves the row ``sending``;
once the lease ends the re-drive sends it again. That second copy carries the same
``Message-ID``, which many mailbox providers fold into the first. A mail server that accepts
a message and drops the connection before answering is the same case.
"""

import logging
import smtplib
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone

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
    this_lease = OutboxMessage.objects.filter(
        pk=row.pk, status=OutboxStatus.SENDING, attempts=row.attempts
    )
    try:
        with get_connection() as mail:
            mail.send_messages([_message(row)])
    except OSError as exc:  # smtplib.SMTPException is an OSError, as is a refused connection
        refused = isinstance(exc, smtplib.SMTPRecipientsRefused)
        given_up = refused or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        status = OutboxStatus.FAILED if given_up else OutboxStatus.PENDING
        this_lease.update(status=status, lease_until=None, last_error=repr(exc)[:4000])
        logger.warning(
            "Could not send email %s (outbox row %s, attempt %s): %r; %s",
            row.kind,
            row.pk,
            row.attempts,
            exc,
            "given up" if given_up else "will retry",
        )
        if given_up:
            return OutboxStatus.FAILED
        raise
    this_lease.update(status=OutboxStatus.SENT, sent_at=timezone.now(), lease_until=None)
    logger.info(
        "Sent email %s for %s (%s) to user %s (outbox row %s)",
        row.kind,
        row.object_ref,
        row.fact,
        row.user_id,
        row.pk,
    )
    return OutboxStatus.SENT


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
