"""The publishers' read ledger: kept on the empty account so statements never change."""

from privacy.registry.base import Erase, PersonalData

ENTRIES = [
    PersonalData(
        model="publishers.ReadRow",
        what="The reader's engaged reading per article and day (the publishers' ledger; "
        "kept on the empty account, statements must not change)",
        erase=Erase.KEEP,
        export_as="reads.json",
        export_fields=("article", "title", "day", "seconds", "progress", "source"),
    ),
    PersonalData(
        model="publishers.ReaderPayment",
        what="The reader's net payment each closed month, shared among titles (ledger)",
        erase=Erase.KEEP,
        export_as="reader_payments.json",
        export_fields=("currency", "amount", "engaged_seconds"),
    ),
    PersonalData(
        model="publishers.TitleStaff",
        what="Titles a publisher's staff member may see statements of",
        erase=Erase.DELETE,
    ),
    PersonalData(
        model="publishers.Adjustment",
        what="A manual correction to a statement, by a member of staff",
        erase=Erase.KEEP,
        reader="created_by",
    ),
]
