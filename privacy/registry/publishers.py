"""Publishers: the reader's read ledger, their payments shared out to titles, staff links."""

from privacy.registry.base import Erase, PersonalData

ENTRIES = [
    PersonalData(
        model="publishers.ReadRow",
        what="What the reader read, day by day: article, engaged seconds, how far, and the "
        "access it was read under; kept on the empty account, so the publishers' statements "
        "(closed and still to close) never change",
        erase=Erase.KEEP,
        export_as="reads.json",
        export_fields=("day", "title", "article", "source", "seconds", "progress", "qualified"),
    ),
    PersonalData(
        model="publishers.ReaderPayment",
        what="The reader's net payment in a closed month, as shared out to the titles read; "
        "kept on the empty account, as statement lines trace to the ledger through it",
        erase=Erase.KEEP,
        export_as="reader_payments.json",
        export_fields=("currency", "amount", "engaged_seconds"),
    ),
    PersonalData(
        model="publishers.TitleStaff",
        what="The titles a publisher's staff member sees the statements of",
        erase=Erase.DELETE,
        export_as="publisher_titles.json",
        export_fields=("title", "created_at"),
    ),
    PersonalData(
        model="publishers.Adjustment",
        what="Statement adjustments recorded by the staff member",
        erase=Erase.SCRUB,
        reader="created_by",
        detach=("created_by",),
    ),
]
