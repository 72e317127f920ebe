"""Erasure: a reader's personal data removed from Masthead and Stripe, payment records kept
without anything that names them, and an audit row of what was done.

``erasure_request`` records the request and signs the reader out everywhere at once (one
transaction); ``erasure_run`` does the rest step by step under a lease, recording each step
when it is done, so a worker killed mid-way leaves the remaining steps to the next run (the
beat re-drive). Every step may run twice without harm.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway
from billing.errors import BillingError, BillingErrorCode
from billing.models import CURRENT_STATUSES, Subscription
from billing.services import subscription_sync
from privacy import errors
from privacy.models import ErasureAudit, ErasureRequest, ErasureStatus
from privacy.registry import ENTRIES, Erase, PersonalData, Reader
from privacy.registry.accounts import sessions_delete
from privacy.registry.billing import customer_ids

logger = logging.getLogger(__name__)

STEP_STRIPE = "stripe"
STEP_AUDIT = "audit"


def erasure_steps() -> list[str]:
    """Every step of an erasure, in order: Stripe, each registry entry, the audit row."""
    return [STEP_STRIPE, *(f"records:{entry.model}" for entry in ENTRIES), STEP_AUDIT]


def erasure_password_check(*, user: User, password: str | None) -> None:
    """Accept the reader's password, or a sign-in within ``PRIVACY_FRESH_SIGN_IN_SECONDS``
    when no password is given; refuse otherwise."""
    if password:
        if not check_password(password, user.password):
            raise errors.password_incorrect()
        return
    fresh = timezone.now() - timedelta(seconds=settings.PRIVACY_FRESH_SIGN_IN_SECONDS)
    if user.last_login is None or user.last_login < fresh:
        raise errors.password_required()


@transaction.atomic
def erasure_request(*, user: User, requested_by: User | None = None) -> ErasureRequest:
    """Record that the reader's personal data is to be erased and sign them out everywhere
    now (sessions and app tokens gone, sign-in refused); return the open request (the same
    one when asked twice). ``requested_by`` is the member of staff who asked, if one did."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_staff and requested_by is not None:
        raise errors.staff_account()
    existing = ErasureRequest.objects.filter(user=locked).exclude(status=ErasureStatus.DONE)
    request = existing.first()
    if request is None:
        request = ErasureRequest.objects.create(
            user=locked,
            requested_by=requested_by,
            by_reader=requested_by is None or requested_by.pk == locked.pk,
        )
    User.objects.filter(pk=locked.pk).update(is_active=False)
    signed_out = sessions_delete(_reader(request, locked))
    if signed_out:
        request.erased = {**request.erased, "sessions.Session": signed_out}
        request.save(update_fields=["erased"])
    logger.info("Erasure %s of user %s recorded; the reader is signed out", request.pk, user.pk)
    return request


def _reader(request: ErasureRequest, user: User) -> Reader:
    return Reader(
        user_id=user.pk,
        email=user.email,
        full_name=user.full_name,
        stripe_customer_ids=tuple(request.stripe_customer_ids),
    )


def _lease_take(request_id: int) -> bool:
    now = timezone.now()
    free = Q(status=ErasureStatus.PENDING) | Q(status=ErasureStatus.RUNNING, lease_until__lte=now)
    return bool(
        ErasureRequest.objects.filter(free, pk=request_id).update(
            status=ErasureStatus.RUNNING,
            lease_until=now + timedelta(seconds=settings.PRIVACY_ERASURE_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    )


def _lease_renew(request_id: int) -> None:
    lease = timezone.now() + timedelta(seconds=settings.PRIVACY_ERASURE_LEASE_SECONDS)
    ErasureRequest.objects.filter(pk=request_id).update(lease_until=lease)


def erasure_run(*, request_id: int) -> str:
    """Do the steps of the erasure not done yet; return ``done``, or ``held`` when another
    worker holds it, or ``finished`` when it was done before. A failing step (Stripe out of
    reach) leaves the request pending with its error, for the next run."""
    if not _lease_take(request_id):
        status = ErasureRequest.objects.filter(pk=request_id).values_list("status", flat=True)
        return "finished" if status.first() == ErasureStatus.DONE else "held"
    request = ErasureRequest.objects.get(pk=request_id)
    try:
        for step in erasure_steps():
            if step in request.steps_done:
                continue
            _step_run(request, step)
            _lease_renew(request_id)
            request.refresh_from_db()
    except Exception as exc:
        ErasureRequest.objects.filter(pk=request_id).update(
            status=ErasureStatus.PENDING, lease_until=None, last_error=str(exc)[:2000]
        )
        logger.warning("Erasure %s stopped at a step and waits for a re-run: %s", request_id, exc)
        raise
    return "done"


def _step_run(request: ErasureRequest, step: str) -> None:
    assert request.user_id is not None
    user = User.objects.get(pk=request.user_id)
    if step == STEP_STRIPE:
        _stripe_erase(request, user)
        _step_record(request.pk, step)
    elif step == STEP_AUDIT:
        _audit_write(request.pk)
    else:
        entry = next(e for e in ENTRIES if f"records:{e.model}" == step)
        _entry_erase(request.pk, entry, _reader(request, user), step)


def _stripe_erase(request: ErasureRequest, user: User) -> None:
    """Cancel the reader's live subscriptions at Stripe at once and delete their customers
    there; mirror the cancellations. The customer ids are kept on the request first."""
    ids = customer_ids(_reader(request, user))
    ErasureRequest.objects.filter(pk=request.pk).update(stripe_customer_ids=list(ids))
    request.stripe_customer_ids = list(ids)
    live = Subscription.objects.filter(
        Q(user=user) | Q(customer_stripe_id__in=ids), status__in=CURRENT_STATUSES
    ).values_list("stripe_id", flat=True)
    cancelled = []
    for subscription_id in live:
        try:
            stripe_gateway.subscription_cancel(subscription_id=subscription_id)
        except BillingError as error:
            if error.code not in (BillingErrorCode.NOT_FOUND, BillingErrorCode.STRIPE_REFUSED):
                raise
        cancelled.append(subscription_id)
    for customer_id in ids:
        try:
            stripe_gateway.customer_delete(customer_id=customer_id)
        except BillingError as error:
            if error.code != BillingErrorCode.NOT_FOUND:
                raise
        logger.info("Erasure %s deleted Stripe customer %s", request.pk, customer_id)
    for subscription_id in cancelled:
        try:
            subscription_sync(subscription_id=subscription_id)
        except BillingError:
            logger.info("Subscription %s is mirrored by its webhook instead", subscription_id)


def _field_value(row: Any, rule: Any, reader: Reader) -> Any:
    return rule(row, reader) if callable(rule) else rule


def entry_erase(entry: PersonalData, reader: Reader) -> int:
    """Apply one registry entry to the reader's rows; return how many rows it touched."""
    if entry.apply is not None:
        return entry.apply(reader)
    rows = entry.queryset(reader)
    if entry.erase == Erase.DELETE:
        count = rows.count()
        rows.delete()
        return count
    if entry.erase == Erase.KEEP:
        return rows.count()
    count = 0
    for row in rows:
        changed = [name for name in entry.detach if getattr(row, name) is not None]
        for name in changed:
            setattr(row, name, None)
        for name, rule in entry.scrub.items():
            value = _field_value(row, rule, reader)
            if value != getattr(row, name):
                setattr(row, name, value)
                changed.append(name)
        if changed:
            row.save(update_fields=changed)
        count += 1
    return count


@transaction.atomic
def _entry_erase(request_id: int, entry: PersonalData, reader: Reader, step: str) -> None:
    touched = entry_erase(entry, reader)
    request = ErasureRequest.objects.select_for_update().get(pk=request_id)
    tally = request.erased if entry.erase == Erase.DELETE else request.kept
    tally[entry.model] = tally.get(entry.model, 0) + touched
    request.steps_done = [*request.steps_done, step]
    request.save(update_fields=["erased", "kept", "steps_done"])


def _step_record(request_id: int, step: str) -> None:
    with transaction.atomic():
        request = ErasureRequest.objects.select_for_update().get(pk=request_id)
        if step not in request.steps_done:
            request.steps_done = [*request.steps_done, step]
            request.save(update_fields=["steps_done"])


@transaction.atomic
def _audit_write(request_id: int) -> None:
    request = ErasureRequest.objects.select_for_update().get(pk=request_id)
    now = timezone.now()
    retention = timedelta(days=settings.PRIVACY_PAYMENT_RECORDS_RETENTION_DAYS)
    notes = [entry.notice for entry in ENTRIES if entry.notice and request.kept.get(entry.model)]
    ErasureAudit.objects.get_or_create(
        request=request,
        defaults={
            "member_id": request.user_id or 0,
            "requested_by": request.requested_by,
            "by_reader": request.by_reader,
            "erased": request.erased,
            "kept": request.kept,
            "notes": notes,
            "requested_at": request.requested_at,
            "finished_at": now,
            "records_kept_until": now + retention,
        },
    )
    request.status = ErasureStatus.DONE
    request.finished_at = now
    request.lease_until = None
    request.last_error = ""
    request.steps_done = [*request.steps_done, STEP_AUDIT]
    request.save()
    logger.info("Erasure %s done: erased %s, kept %s", request.pk, request.erased, request.kept)


def erasures_pending_ids() -> list[int]:
    """Erasures the beat re-drive should run: waiting, or held by a worker that died."""
    now = timezone.now()
    waiting = Q(status=ErasureStatus.PENDING) | Q(
        status=ErasureStatus.RUNNING, lease_until__lte=now
    )
    return list(ErasureRequest.objects.filter(waiting).order_by("pk").values_list("pk", flat=True))


def erasures_late_scrub() -> int:
    """Scrub again, for ``PRIVACY_LATE_SCRUB_HOURS`` after each erasure, what Stripe sent
    about the erased reader's customers since (their deletion's own events, say); return
    how many rows were touched."""
    since = timezone.now() - timedelta(hours=settings.PRIVACY_LATE_SCRUB_HOURS)
    recent = ErasureRequest.objects.filter(status=ErasureStatus.DONE, finished_at__gte=since)
    touched = 0
    for request in recent.exclude(user=None):
        assert request.user_id is not None
        reader = Reader(
            user_id=request.user_id,
            email="",
            full_name="",
            stripe_customer_ids=tuple(request.stripe_customer_ids),
        )
        with transaction.atomic():
            touched += sum(entry_erase(entry, reader) for entry in ENTRIES if entry.late)
    return touched


def erasure_records_expire() -> int:
    """Delete the payment records kept for erased readers once their retention
    (``PRIVACY_PAYMENT_RECORDS_RETENTION_DAYS``) is over; return how many rows went."""
    due = ErasureAudit.objects.filter(
        records_kept_until__lte=timezone.now(), records_deleted_at__isnull=True
    ).select_related("request")
    deleted = 0
    for audit in due:
        reader = Reader(
            user_id=audit.member_id,
            email="",
            full_name="",
            stripe_customer_ids=tuple(audit.request.stripe_customer_ids),
        )
        with transaction.atomic():
            for entry in ENTRIES:
                if entry.late:
                    count, _ = entry.queryset(reader).delete()
                    deleted += count
            ErasureAudit.objects.filter(pk=audit.pk).update(records_deleted_at=timezone.now())
    if deleted:
        logger.info("Deleted %s payment records of erased readers past their retention", deleted)
    return deleted
