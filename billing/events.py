"""The stored-event pipeline: keep each Stripe event once, claim it, apply it with the
handler of its type (``EVENT_HANDLERS``), record how.

Work that must not be lost is a row first: an event is stored before it is applied, a
task only nudges it, and ``webhook_events_redrive`` re-queues rows left behind.
"""

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing import event_handlers
from billing.event_handlers import Handler
from billing.models import WebhookEvent, WebhookEventStatus
from billing.stripe_gateway import StripeEvent
from core.db import row_insert_unless_stored

logger = logging.getLogger(__name__)

FINISHED = (WebhookEventStatus.SUCCEEDED, WebhookEventStatus.IGNORED)

# What each Stripe event type does; other types are stored and ignored.
EVENT_HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": event_handlers.checkout_completed,
    "checkout.session.async_payment_succeeded": event_handlers.checkout_payment_settled,
    "checkout.session.async_payment_failed": event_handlers.checkout_payment_settled,
    "charge.refunded": event_handlers.charge_refunded,
    "customer.subscription.created": event_handlers.subscription_changed,
    "customer.subscription.updated": event_handlers.subscription_changed,
    "customer.subscription.paused": event_handlers.subscription_changed,
    "customer.subscription.resumed": event_handlers.subscription_changed,
    "customer.subscription.deleted": event_handlers.subscription_deleted,
    "customer.subscription.trial_will_end": event_handlers.trial_will_end,
    "invoice.paid": event_handlers.invoice_paid,
    "invoice.payment_failed": event_handlers.invoice_payment_failed,
    "invoice.payment_action_required": event_handlers.invoice_action_required,
    "customer.deleted": event_handlers.customer_deleted,
}


def webhook_event_store(*, event: StripeEvent) -> tuple[WebhookEvent, bool]:
    """Store a verified event once; return it and whether this call stored it."""
    stored = WebhookEvent(
        stripe_id=event.id,
        type=event.type,
        api_version=event.api_version,
        livemode=event.livemode,
        payload=event.payload,
    )
    # One statement, a duplicate no error: at the door it commits on its own (no BEGIN and
    # COMMIT), and in a caller's transaction it needs no savepoint.
    if not row_insert_unless_stored(row=stored, unique="stripe_id"):
        logger.info("Stripe event %s arrived again; already stored", event.id)
        return WebhookEvent.objects.get(stripe_id=event.id), False
    logger.info("Stored Stripe event %s (%s) as %s", stored.stripe_id, stored.type, stored.pk)
    return stored, True


def _lease() -> timedelta:
    return timedelta(seconds=settings.BILLING_EVENT_LEASE_SECONDS)


# Not finished, and not held by a live worker: a processing event is taken over only once
# its lease has run out (its worker died, or stopped renewing). A row left processing by a
# version without leases counts from ``started_at``.
_CLAIM_SQL = """
    UPDATE billing_webhookevent
    SET status = %s, attempts = attempts + 1, started_at = %s, lease_until = %s
    WHERE id = %s AND status NOT IN (%s, %s)
        AND (status <> %s OR lease_until <= %s
             OR (lease_until IS NULL AND (started_at IS NULL OR started_at <= %s)))
    RETURNING *
"""


def webhook_event_claim(*, event_id: int) -> WebhookEvent | None:
    """Lease the event to this worker (processing until ``lease_until``) and return it, or
    return None when it is finished or another worker holds a live lease on it.

    A message the broker hands out again (its worker's connection dropped, or the worker
    died) takes over nothing while the first worker still holds the lease; once the lease
    has run out the re-drive queues the event again. The claim is one ``UPDATE … RETURNING``,
    so of two workers claiming at once exactly one wins, and claiming costs one statement."""
    adapt = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    params = [
        WebhookEventStatus.PROCESSING, adapt(now), adapt(now + _lease()), event_id, *FINISHED,
        WebhookEventStatus.PROCESSING, adapt(now), adapt(now - _lease()),
    ]  # fmt: skip
    claimed = list(WebhookEvent.objects.raw(_CLAIM_SQL, params))
    if not claimed:
        return None
    event = claimed[0]
    if event.attempts > 1:
        logger.warning(
            "Stripe event %s was tried before; applying it again (attempt %s)",
            event.stripe_id,
            event.attempts,
        )
    return event


def _held_by(*held: WebhookEvent) -> QuerySet[WebhookEvent]:
    """The events' rows while this claim still holds them (a later claim bumped ``attempts``)."""
    claims = Q()
    for event in held:
        claims |= Q(pk=event.pk, attempts=event.attempts)
    return WebhookEvent.objects.filter(claims, status=WebhookEventStatus.PROCESSING)


@contextmanager
def webhook_event_lease_kept(
    *, event: WebhookEvent, more: Sequence[WebhookEvent] = ()
) -> Iterator[None]:
    """Renew the lease of the event (and of the ``more`` claimed with it and waiting their
    turn) every third of ``BILLING_EVENT_LEASE_SECONDS`` while the block runs (a heartbeat
    thread), so no other worker takes over an event this one holds. Most blocks end before
    the first renewal, and then cost nothing."""
    done = threading.Event()
    period = settings.BILLING_EVENT_LEASE_SECONDS / 3

    def beat() -> None:
        try:
            while not done.wait(period):
                if not _held_by(event, *more).update(lease_until=timezone.now() + _lease()):
                    logger.warning("Stripe event %s: lease lost to another worker", event.stripe_id)
                    return
        except Exception:
            logger.exception("Stripe event %s: could not renew the lease", event.stripe_id)
        finally:
            connection.close()  # this thread's own connection, if it opened one

    heart = threading.Thread(target=beat, name=f"lease-{event.pk}", daemon=True)
    heart.start()
    try:
        yield
    finally:
        done.set()
        heart.join()


def webhook_event_finish(*, event: WebhookEvent, status: str, error: str = "") -> None:
    """Record how applying the event ended, unless another worker has taken it over since
    (this run's lease ran out): then that worker records its own outcome."""
    recorded = _held_by(event).update(
        status=status, last_error=error[:4000], finished_at=timezone.now(), lease_until=None
    )
    if not recorded:
        logger.warning(
            "Stripe event %s was taken over by another worker; this run's outcome (%s) is "
            "not recorded",
            event.stripe_id,
            status,
        )
        return
    event.status = status
    logger.info(
        "Stripe event %s (%s) %s after %s attempt(s)%s",
        event.stripe_id,
        event.type,
        status,
        event.attempts,
        f": {error}" if error else "",
    )


# Each row's own outcome, only while this claim still holds it (``attempts`` unchanged).
_FINISH_MANY_SQL = """
    UPDATE billing_webhookevent
    SET status = CASE id {cases} END, last_error = '', finished_at = %s, lease_until = NULL
    WHERE status = %s AND ({held})
    RETURNING id
"""


def webhook_events_finish(*, finished: Sequence[tuple[WebhookEvent, str]]) -> None:
    """Record how applying each of several claimed events ended (succeeded or ignored), in
    one statement, as ``webhook_event_finish`` does for one: an event another worker has
    taken over since is left to that worker."""
    if not finished:
        return
    sql = _FINISH_MANY_SQL.format(
        cases=" ".join(["WHEN %s THEN %s"] * len(finished)),
        held=" OR ".join(["(id = %s AND attempts = %s)"] * len(finished)),
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = [value for event, outcome in finished for value in (event.pk, outcome)]
    params += [now, WebhookEventStatus.PROCESSING]
    params += [value for event, _ in finished for value in (event.pk, event.attempts)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        recorded = {row[0] for row in cursor.fetchall()}
    for event, outcome in finished:
        if event.pk not in recorded:
            logger.warning(
                "Stripe event %s was taken over by another worker; this run's outcome (%s) is "
                "not recorded",
                event.stripe_id,
                outcome,
            )
            continue
        event.status = outcome
        logger.info(
            "Stripe event %s (%s) %s after %s attempt(s)",
            event.stripe_id,
            event.type,
            outcome,
            event.attempts,
        )


def webhook_event_process(*, event_id: int) -> str:
    """Apply a stored event with the handler of its type, once; return the status it ends in, "held"
    when another worker holds its lease, or "skipped" when it was finished already.

    A handler's exception marks the event failed and propagates, so the task retries.
    """
    event = webhook_event_claim(event_id=event_id)
    if event is None:
        return "held" if webhook_event_lease_left(event_id=event_id) else "skipped"
    return webhook_event_apply_claimed(event=event)


def webhook_event_handle(*, event: WebhookEvent) -> str:
    """Run the handler of a claimed event's type and return the status it should end in
    (ignored when no handler takes its type); record nothing. A handler's exception
    propagates: the caller records the event failed."""
    handler = EVENT_HANDLERS.get(event.type)
    if handler is None:
        return WebhookEventStatus.IGNORED
    handler(event)
    return WebhookEventStatus.SUCCEEDED


def webhook_event_apply_claimed(
    *, event: WebhookEvent, waiting: Sequence[WebhookEvent] = ()
) -> str:
    """Apply an event this worker has claimed and record how it ended; return that status.
    The leases of ``waiting`` (claimed with it, applied next) are kept meanwhile.

    A handler's exception marks the event failed and propagates."""
    if event.type not in EVENT_HANDLERS:
        webhook_event_finish(event=event, status=WebhookEventStatus.IGNORED)
        return WebhookEventStatus.IGNORED
    try:
        with webhook_event_lease_kept(event=event, more=waiting):
            status = webhook_event_handle(event=event)
    except Exception as exc:
        webhook_event_fail(event=event, exc=exc)
        raise
    webhook_event_finish(event=event, status=status)
    return status


def webhook_event_fail(*, event: WebhookEvent, exc: BaseException) -> None:
    """Record that applying the event raised ``exc`` (it is tried again)."""
    webhook_event_finish(
        event=event, status=WebhookEventStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
    )


def webhook_event_lease_left(*, event_id: int) -> float:
    """Return how many seconds the event stays leased to the worker applying it (0 if none)."""
    lease_until = (
        WebhookEvent.objects.filter(pk=event_id, status=WebhookEventStatus.PROCESSING)
        .values_list("lease_until", flat=True)
        .first()
    )
    if lease_until is None:
        return 0.0
    return max(0.0, (lease_until - timezone.now()).total_seconds())


def webhook_events_pending_ids(*, limit: int = 1000) -> list[int]:
    """Return events that were never applied (broker down, worker killed) or are stuck."""
    now = timezone.now()
    ran_out = Q(lease_until__lte=now) | Q(lease_until__isnull=True, started_at__lt=now - _lease())
    stuck = Q(status=WebhookEventStatus.PROCESSING) & ran_out
    waiting = Q(
        status=WebhookEventStatus.RECEIVED,
        received_at__lt=now - timedelta(seconds=settings.BILLING_EVENT_REDRIVE_AFTER),
    )
    rows = WebhookEvent.objects.filter(stuck | waiting).order_by("received_at", "pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def webhook_events_replay(*, event_ids: list[int]) -> int:
    """Put failed events back to received so they are applied again; return how many."""
    return WebhookEvent.objects.filter(pk__in=event_ids, status=WebhookEventStatus.FAILED).update(
        status=WebhookEventStatus.RECEIVED, last_error=""
    )
