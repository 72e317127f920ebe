"""Group and family seats: the reader's memberships (removed, access ended) and the group
they own (kept on the empty account; its seats end with the cancelled subscription)."""

from django.db.models import Q, QuerySet

from accounts.models import User
from groups.models import GroupMember, MemberStatus
from groups.services import group_leave
from privacy.registry.base import Erase, PersonalData, Reader


def memberships_of(reader: Reader) -> QuerySet[GroupMember]:
    theirs = Q(user_id=reader.user_id)
    if reader.email:
        theirs |= Q(email__iexact=reader.email)
    return GroupMember.objects.filter(theirs)


def memberships_delete(reader: Reader) -> int:
    """Leave the group (the seat's access ends at once), then remove the seat's rows."""
    if GroupMember.objects.filter(user_id=reader.user_id, status=MemberStatus.ACTIVE).exists():
        group_leave(user=User.objects.get(pk=reader.user_id))
    deleted, _ = memberships_of(reader).delete()
    return deleted


ENTRIES = [
    PersonalData(
        model="groups.GroupMember",
        what="The reader's seats in another reader's group, and invitations sent to them",
        erase=Erase.DELETE,
        rows=memberships_of,
        apply=memberships_delete,
        export_as="group_memberships.json",
        export_fields=("group", "email", "status", "invited_at", "accepted_at", "ended_at"),
    ),
    PersonalData(
        model="groups.Group",
        what="The group or family the reader owns; its seats end with their subscription",
        erase=Erase.KEEP,
        reader="owner",
        export_as="groups_owned.json",
        export_fields=("id", "kind", "plan", "seats", "created_at"),
    ),
]
