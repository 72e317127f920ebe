"""Gift memberships: bought by the reader, or sent to or redeemed by them. Kept as payment
records; the reader's link and address are cleared, the other person's stay."""

from typing import Any

from django.db.models import Q, QuerySet

from gifts.models import Gift
from privacy.registry.base import Erase, PersonalData, Reader, blank_if_theirs, unlink


def gifts_of(reader: Reader) -> QuerySet[Gift]:
    theirs = Q(buyer_id=reader.user_id) | Q(redeemed_by_id=reader.user_id)
    if reader.email:
        theirs |= Q(recipient_email__iexact=reader.email)
    return Gift.objects.filter(theirs)


def _message_erased(row: Gift, reader: Reader) -> Any:
    """The buyer's message is theirs: gone with them."""
    return "" if row.buyer_id == reader.user_id else row.message


ENTRIES = [
    PersonalData(
        model="gifts.Gift",
        what="Gift memberships the reader bought, was sent or redeemed; kept as payment "
        "records without the reader's link, address or message",
        erase=Erase.SCRUB,
        rows=gifts_of,
        scrub={
            "message": _message_erased,
            "recipient_email": blank_if_theirs("recipient_email"),
            "buyer_id": unlink("buyer_id"),
            "redeemed_by_id": unlink("redeemed_by_id"),
        },
        export_as="gifts.json",
        export_fields=(
            "plan",
            "months",
            "recipient_email",
            "message",
            "status",
            "redeemable_until",
            "redeemed_at",
            "created_at",
        ),
    ),
]
