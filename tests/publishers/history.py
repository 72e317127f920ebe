"""A small known history for the publishers' tests: money stored as Stripe events, reads."""

from datetime import UTC, date, datetime
from itertools import count
from typing import Any

from billing.models import WebhookEvent
from publishers.models import ReadRow
from tests.factories import ArticleFactory, CustomerFactory

_ids = count(1)


def _event(kind: str, obj: dict[str, Any], at: datetime, **extra: Any) -> WebhookEvent:
    n = next(_ids)
    return WebhookEvent.objects.create(
        stripe_id=f"evt_history{n}",
        type=kind,
        payload={
            "id": f"evt_history{n}",
            "type": kind,
            "created": int(at.timestamp()),
            "data": {"object": obj, **extra},
        },
        received_at=at,
    )


def paid(reader: Any, amount: int, at: datetime, currency: str = "gbp") -> WebhookEvent:
    """A paid subscription invoice of ``reader`` (their Stripe customer made if need be)."""
    customer = getattr(reader, "stripe_customer", None) or CustomerFactory(user=reader)
    invoice = {
        "id": f"in_history{next(_ids)}",
        "object": "invoice",
        "customer": customer.stripe_id,
        "amount_paid": amount,
        "currency": currency,
        "status": "paid",
        "status_transitions": {"paid_at": int(at.timestamp())},
    }
    return _event("invoice.paid", invoice, at)


def refunded(reader: Any, amount: int, at: datetime, currency: str = "gbp") -> WebhookEvent:
    """A refund of ``amount`` to ``reader`` (a charge refunded from nothing to ``amount``)."""
    charge = {
        "id": f"ch_history{next(_ids)}",
        "object": "charge",
        "customer": reader.stripe_customer.stripe_id,
        "amount_refunded": amount,
        "currency": currency,
    }
    return _event("charge.refunded", charge, at, previous_attributes={"amount_refunded": 0})


def read(
    reader: Any,
    title: Any,
    day: date,
    seconds: int,
    source: str = "subscription",
    qualified: bool | None = None,
) -> ReadRow:
    """A ledger row of ``reader`` on a new article of ``title``."""
    return ReadRow.objects.create(
        user=reader,
        article=ArticleFactory(title=title),
        title=title,
        day=day,
        source=source,
        seconds=seconds,
        qualified=seconds >= 30 if qualified is None else qualified,
    )


NOV = date(2026, 11, 1)
IN_NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)
AFTER_NOV = datetime(2026, 12, 1, 2, 15, tzinfo=UTC)
