"""Billing: the Stripe customer (deleted at Stripe first, by the erasure's Stripe step), the
subscription mirror and the stored Stripe events, kept as payment records without the
reader's name, address or email."""

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from billing import stripe_gateway
from billing.errors import BillingError
from billing.models import Customer, Subscription, WebhookEvent
from privacy.registry.base import Erase, PersonalData, Reader
from privacy.scrub import json_scrub


def customer_ids(reader: Reader) -> tuple[str, ...]:
    """The reader's Stripe customers: linked now, or remembered by the erasure."""
    linked = Customer.objects.filter(user_id=reader.user_id).values_list("stripe_id", flat=True)
    mirrored = Subscription.objects.filter(user_id=reader.user_id).values_list(
        "customer_stripe_id", flat=True
    )
    return tuple(sorted({*linked, *mirrored, *reader.stripe_customer_ids} - {""}))


def subscriptions_of(reader: Reader) -> QuerySet[Subscription]:
    return Subscription.objects.filter(
        Q(user_id=reader.user_id) | Q(customer_stripe_id__in=customer_ids(reader))
    )


def events_of(reader: Reader) -> QuerySet[WebhookEvent]:
    """Stored Stripe events that mention the reader's customers or the reader's address (not
    their name, which another person may share)."""
    needles = [*customer_ids(reader), *([reader.email] if reader.email else [])]
    if not needles:
        return WebhookEvent.objects.none()
    text = Cast("payload", output_field=TextField())
    return WebhookEvent.objects.annotate(payload_text=text).filter(
        reduce(or_, (Q(payload_text__icontains=n) for n in needles))
    )


def _data_scrubbed(row: Subscription, reader: Reader) -> Any:
    return json_scrub(row.data, needles=reader.needles)


def _payload_scrubbed(row: WebhookEvent, reader: Reader) -> Any:
    return json_scrub(row.payload, needles=reader.needles)


def _stripe_side(reader: Reader, what: str) -> list[dict[str, Any]]:
    """What Stripe holds for the reader's customers now, through billing's gateway."""
    found: list[dict[str, Any]] = []
    for customer_id in customer_ids(reader):
        try:
            if what == "customer":
                found.append(stripe_gateway.customer_retrieve(customer_id=customer_id).data)
            else:
                records = stripe_gateway.customer_records_list(customer_id=customer_id, kind=what)
                found += [record.data for record in records]
        except BillingError as error:
            found.append({"customer": customer_id, "unavailable": error.message})
    return found


ENTRIES = [
    PersonalData(
        model="billing.Customer",
        what="The link to the reader's Stripe customer (deleted at Stripe by the erasure)",
        erase=Erase.DELETE,
        export_as="stripe_customer.json",
        export=lambda reader: _stripe_side(reader, "customer"),
    ),
    PersonalData(
        model="billing.Subscription",
        what="The reader's subscriptions as Masthead mirrors them; kept as payment records "
        "without the reader's name, address or email",
        erase=Erase.SCRUB,
        rows=subscriptions_of,
        scrub={"data": _data_scrubbed},
        detach=("user",),
        late=True,
        export_as="subscriptions.json",
        export_fields=(
            "stripe_id",
            "customer_stripe_id",
            "plan",
            "interval",
            "status",
            "current_period_end",
            "trial_end",
            "cancel_at",
            "ended_at",
            "data",
        ),
    ),
    PersonalData(
        model="billing.WebhookEvent",
        what="Stripe's events about the reader (invoices, payments) as stored; kept for "
        "idempotency and as payment records, scrubbed of the name, address and email",
        erase=Erase.SCRUB,
        rows=events_of,
        scrub={"payload": _payload_scrubbed},
        late=True,
        export_as="invoices_and_payments_as_stored.json",
        export_fields=("stripe_id", "type", "received_at", "payload"),
    ),
]

# What Stripe itself holds, in the export only.
STRIPE_EXPORTS = {
    "stripe_subscriptions.json": lambda reader: _stripe_side(reader, "subscriptions"),
    "stripe_invoices.json": lambda reader: _stripe_side(reader, "invoices"),
}
