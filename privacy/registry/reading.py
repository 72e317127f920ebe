"""Reading: the meter's counted reads and counts, gift links given and opened."""

from django.db.models import Q, QuerySet

from membership.models import GiftLinkOpen, MeterCount, MeterRead
from privacy.registry.base import Erase, PersonalData, Reader, unlink


def _subject(reader: Reader) -> str:
    return f"user:{reader.user_id}"


def meter_reads_of(reader: Reader) -> QuerySet[MeterRead]:
    return MeterRead.objects.filter(subject=_subject(reader))


def meter_counts_of(reader: Reader) -> QuerySet[MeterCount]:
    return MeterCount.objects.filter(subject=_subject(reader))


def gift_link_opens_of(reader: Reader) -> QuerySet[GiftLinkOpen]:
    opener = f"reader:{reader.user_id}"
    return GiftLinkOpen.objects.filter(Q(reader_id=reader.user_id) | Q(opener=opener))


def _opener_erased(row: GiftLinkOpen, reader: Reader) -> str:
    """Keep the open counted on the giver's link without saying who opened it."""
    return f"erased:{row.pk}" if row.opener == f"reader:{reader.user_id}" else row.opener


ENTRIES = [
    PersonalData(
        model="membership.MeterRead",
        what="Premium articles the reader read free on the meter, by month",
        erase=Erase.DELETE,
        rows=meter_reads_of,
        export_as="metered_reads.json",
        export_fields=("article", "month", "read_at"),
    ),
    PersonalData(
        model="membership.MeterCount",
        what="How many free articles the reader read each month",
        erase=Erase.DELETE,
        rows=meter_counts_of,
        export_as="metered_counts.json",
        export_fields=("month", "used"),
    ),
    PersonalData(
        model="membership.GiftLinkOpen",
        what="Gift links the reader opened (another reader's gift)",
        erase=Erase.SCRUB,
        rows=gift_link_opens_of,
        scrub={"reader_id": unlink("reader_id"), "opener": _opener_erased},
        export_as="gift_links_opened.json",
        export_fields=("link", "opened_at"),
    ),
    PersonalData(
        model="membership.GiftLink",
        what="Gift links the reader made to share an article",
        erase=Erase.DELETE,
        reader="giver",
        export_as="gift_links.json",
        export_fields=("article", "created_at", "expires_at", "opens", "revoked_at"),
    ),
]
