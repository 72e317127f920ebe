"""The month's net revenue, per currency and per paying reader, from stored billing records.

The one selector the statements and the dashboard read money from: paid invoices (stored
Stripe events, ``billing.WebhookEvent``) and paid one-time payments (``billing.OneTimePayment``),
less refunds (stored ``charge.refunded`` events, for either kind).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from billing.models import Customer, OneTimePayment, WebhookEvent
from billing.stripe_gateway.money import MONEY_EVENT_TYPES, MoneyMovement, money_movement

# Events are stored when delivered; a delivery this late still counts in its own month.
DELIVERY_SLACK = timedelta(days=3)


@dataclass
class Revenue:
    """Net minor units per currency, and per currency per reader (None: no known reader)."""

    net: dict[str, int] = field(default_factory=dict)
    by_reader: dict[str, dict[int | None, int]] = field(default_factory=dict)


def money_movements(*, start: datetime, end: datetime) -> list[MoneyMovement]:
    """Each movement of money between ``start`` and ``end``, once."""
    rows = WebhookEvent.objects.filter(
        type__in=MONEY_EVENT_TYPES,
        received_at__gte=start - DELIVERY_SLACK,
        received_at__lt=end + DELIVERY_SLACK,
    ).values_list("type", "payload")
    seen: dict[str, MoneyMovement] = {}
    # One-time payments as billing records them (paid when the money is in, bank debits
    # included); their Checkout events name the same movement and are then skipped.
    one_time = OneTimePayment.objects.filter(
        paid_at__gte=start, paid_at__lt=end, amount__gt=0
    ).values_list("checkout_session_id", "user_id", "currency", "amount", "paid_at")
    for session_id, user_id, currency, amount, paid_at in one_time:
        if amount and paid_at:
            reference = f"checkout:{session_id}"
            seen[reference] = MoneyMovement(
                reference, "", user_id, currency.lower(), amount, paid_at
            )
    for event_type, payload in rows.iterator(chunk_size=500):
        movement = money_movement(event_type=event_type, payload=payload)
        if movement is not None and start <= movement.at < end:
            seen.setdefault(movement.reference, movement)
    return list(seen.values())


def revenue_net(*, start: datetime, end: datetime) -> Revenue:
    """Net revenue between ``start`` and ``end``: paid less refunded, by currency and reader."""
    movements = money_movements(start=start, end=end)
    customers = dict(
        Customer.objects.filter(
            stripe_id__in={m.customer_id for m in movements if m.customer_id}
        ).values_list("stripe_id", "user_id")
    )
    net: dict[str, int] = defaultdict(int)
    by_reader: dict[str, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
    for movement in movements:
        reader = customers.get(movement.customer_id) or movement.user_id
        net[movement.currency] += movement.amount
        by_reader[movement.currency][reader] += movement.amount
    return Revenue(
        net=dict(net), by_reader={currency: dict(v) for currency, v in by_reader.items()}
    )
