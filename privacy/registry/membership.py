"""Membership: trials (the trial-once hash stays), entitlements and their events, emails."""

from django.db.models import Q, QuerySet

from membership.models import Entitlement, OutboxMessage, OutboxStatus
from membership.services import entitlement_revoke
from privacy.registry.base import Erase, PersonalData, Reader
from privacy.scrub import ERASED

ERASED_RECIPIENT = "erased@erased.invalid"


def entitlements_end(reader: Reader) -> int:
    """End the reader's access now; the windows stay (nothing in them names the reader)."""
    live = Entitlement.objects.filter(user_id=reader.user_id, revoked_at__isnull=True)
    for entitlement in live.live():
        entitlement_revoke(entitlement=entitlement, note="Account erased")
    return Entitlement.objects.filter(user_id=reader.user_id).update(note="")


def outbox_of(reader: Reader) -> QuerySet[OutboxMessage]:
    """The reader's emails: by their account, and by their address when it is known (the
    late scrub knows only the account)."""
    if not reader.email:
        return OutboxMessage.objects.filter(user_id=reader.user_id)
    return OutboxMessage.objects.filter(Q(user_id=reader.user_id) | Q(to__iexact=reader.email))


def _status_after(row: OutboxMessage, reader: Reader) -> str:
    """A message not sent yet is given up: there is nobody to send it to."""
    return OutboxStatus.SENT if row.status == OutboxStatus.SENT else OutboxStatus.FAILED


ENTRIES = [
    PersonalData(
        model="membership.TrialEvent",
        what="The history of the reader's free trial",
        erase=Erase.KEEP,
        reader="trial__user",
        export_as="trial_events.json",
    ),
    PersonalData(
        model="membership.Trial",
        what="The reader's one free trial; its keyed hash of the address is kept, so the "
        "same address never gets a second trial",
        erase=Erase.SCRUB,
        detach=("user",),
        export_as="trials.json",
        export_fields=("kind", "status", "started_at", "ends_at", "ended_at"),
    ),
    PersonalData(
        model="membership.EntitlementEvent",
        what="The history of the reader's access: granted, changed, revoked",
        erase=Erase.SCRUB,
        reader="entitlement__user",
        scrub={"note": ""},
        export_as="entitlement_events.json",
        export_fields=("entitlement", "kind", "at", "data", "note"),
    ),
    PersonalData(
        model="membership.Entitlement",
        what="What the reader may read and until when; ended now, kept on the empty account",
        erase=Erase.KEEP,
        apply=entitlements_end,
        export_as="entitlements.json",
        export_fields=(
            "id",
            "source",
            "all_titles",
            "starts_at",
            "ends_at",
            "reference",
            "revoked_at",
            "note",
        ),
    ),
    PersonalData(
        model="membership.OutboxMessage",
        what="Emails sent to the reader; kept empty so no fact is emailed twice",
        erase=Erase.SCRUB,
        rows=outbox_of,
        scrub={
            "to": ERASED_RECIPIENT,
            "subject": ERASED,
            "body": "",
            "html": "",
            "last_error": "",
            "status": _status_after,
        },
        detach=("user",),
        # What Stripe sends about the erasure's own cancellation can queue an email (the
        # subscription ended) after this step ran: scrubbed, and so never sent, later.
        late=True,
        export_as="emails_sent.json",
        export_fields=("kind", "to", "subject", "body", "status", "created_at", "sent_at"),
    ),
]
