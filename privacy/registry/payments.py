"""One-time payments and pay-per-article credits: payment records and a ledger, kept on
the empty account (nothing in them names the reader); Stripe's metadata scrubbed."""

from typing import Any

from billing.models import OneTimePayment
from privacy.registry.base import Erase, PersonalData, Reader
from privacy.scrub import json_scrub


def _metadata_scrubbed(row: OneTimePayment, reader: Reader) -> Any:
    return json_scrub(row.metadata, needles=reader.needles)


ENTRIES = [
    PersonalData(
        model="billing.OneTimePayment",
        what="One-time payments (a gift, a credit pack); kept as payment records, without "
        "the reader's link, their Stripe metadata scrubbed",
        erase=Erase.SCRUB,
        scrub={"metadata": _metadata_scrubbed},
        detach=("user",),
        export_as="one_time_payments.json",
        export_fields=("kind", "status", "amount", "currency", "created_at", "paid_at"),
    ),
    PersonalData(
        model="membership.CreditAccount",
        what="The reader's balance of article credits",
        erase=Erase.KEEP,
        export_as="credit_balance.json",
        export_fields=("balance", "updated_at"),
    ),
    PersonalData(
        model="membership.CreditPurchase",
        what="Credit packs the reader bought (a ledger; kept on the empty account)",
        erase=Erase.KEEP,
        export_as="credit_purchases.json",
        export_fields=("pack", "credits", "credits_left", "status", "created_at"),
    ),
    PersonalData(
        model="membership.CreditUnlock",
        what="Articles the reader unlocked with a credit (a ledger; kept on the empty account)",
        erase=Erase.KEEP,
        export_as="credit_unlocks.json",
        export_fields=("article", "created_at"),
    ),
]
