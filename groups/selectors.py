"""What a reader sees of their group: the one they own, or the one they belong to."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from groups.models import SEAT_TAKING, Group, GroupMember, MemberStatus


@dataclass(frozen=True)
class SeatView:
    id: int
    email: str
    status: str
    accepted_at: datetime | None


@dataclass(frozen=True)
class GroupView:
    role: str  # "owner" or "member"
    kind: str
    plan: str
    owner_email: str
    seats: int
    seats_taken: int
    active: bool
    ends_at: datetime | None
    needs_member_removal: bool
    message: str
    members: list[SeatView] = field(default_factory=list)


def _view(group: Group, *, role: str) -> GroupView:
    seats = list(group.members.filter(status__in=SEAT_TAKING).order_by("invited_at", "pk"))
    owner = group.owner_entitlement
    active = group.seats > 0 and owner is not None and owner.ends_at > timezone.now()
    over = active and len(seats) > group.seats
    message = ""
    if role == "owner" and over:
        message = (
            f"Your plan now has {group.seats} seat{'s' if group.seats != 1 else ''} for "
            f"{len(seats)} members and invitations. Please remove members first."
        )
    return GroupView(
        role=role,
        kind=group.kind,
        plan=group.plan.name if group.plan else "",
        owner_email=group.owner.email,
        seats=group.seats,
        seats_taken=len(seats),
        active=active,
        ends_at=owner.ends_at if active and owner else None,
        needs_member_removal=over,
        message=message,
        members=[
            SeatView(id=s.pk, email=s.email, status=s.status, accepted_at=s.accepted_at)
            for s in seats
        ]
        if role == "owner"
        else [],
    )


def group_owned_get(*, user: User) -> GroupView | None:
    """The group the reader owns, with its seats, or None."""
    group = (
        Group.objects.filter(owner=user)
        .select_related("owner", "plan", "owner_entitlement")
        .first()
    )
    return _view(group, role="owner") if group is not None else None


def group_view_get(*, user: User) -> GroupView | None:
    """The group the reader owns, else the one they are a member of, else None."""
    owned = group_owned_get(user=user)
    if owned is not None:
        return owned
    member = (
        GroupMember.objects.filter(user=user, status=MemberStatus.ACTIVE)
        .select_related("group__owner", "group__plan", "group__owner_entitlement")
        .first()
    )
    return _view(member.group, role="member") if member is not None else None


def invitation_get(*, token: str) -> GroupMember | None:
    """The invitation of ``token`` with its group, or None."""
    from groups.services import token_hash

    return (
        GroupMember.objects.filter(token_hash=token_hash(token))
        .select_related("group__owner", "group__plan")
        .first()
    )


def group_of_reader_exists() -> Exists:
    """Whether the reader of the outer query (``OuterRef("pk")``) owns a group or is an
    active member of one: ``/me/`` asks it with its other facts in one statement."""
    active = Q(members__user=OuterRef("pk"), members__status=MemberStatus.ACTIVE)
    return Exists(Group.objects.filter(Q(owner=OuterRef("pk")) | active))
