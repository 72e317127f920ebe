"""Writes of group and family memberships: the seats follow the owner's subscription, the
owner invites and removes members, a member accepts or leaves. Members' access is an
entitlement (source ``group``) whose window follows the owner's, written in the same
transaction as whatever moved it."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.db import row_unique
from groups.emails import invitation_email_build, too_few_seats_email_build
from groups.errors import GroupErrorCode, group_error
from groups.models import SEAT_TAKING, Group, GroupMember, MemberStatus
from membership.models import Entitlement, EntitlementSource, Plan, Title
from membership.services import entitlement_sync, outbox_add

logger = logging.getLogger(__name__)


def token_hash(token: str) -> str:
    """The stored form of an invitation's token (the token itself is only in the email)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _window(group: Group) -> tuple[datetime | None, list[Title] | None]:
    """Until when the group's members may read, and which titles (None: all); no end when
    the owner's access from the subscription is over."""
    owner = group.owner_entitlement
    if group.seats == 0 or owner is None or owner.ends_at <= timezone.now():
        return None, None
    return owner.ends_at, None if owner.all_titles else list(owner.titles.all())


def _member_sync(member: GroupMember, group: Group) -> None:
    """Bring the member's entitlement in line with the owner's window (or end it)."""
    if member.user is None:
        return
    ends_at, titles = _window(group) if member.status == MemberStatus.ACTIVE else (None, None)
    member.entitlement = entitlement_sync(
        user=member.user,
        source=EntitlementSource.GROUP,
        reference=member.reference,
        ends_at=ends_at,
        titles=titles,
    )
    member.save(update_fields=["entitlement"])


def _locked(group_id: int) -> Group:
    return Group.objects.select_for_update(of=("self",)).select_related("owner").get(pk=group_id)


def _attach(group: Group, reference: str, live: bool) -> bool:
    """Whether the subscription ``reference`` pays for the group now: the one it had, or a
    live one replacing a subscription that ended."""
    if not group.subscription_ref or group.subscription_ref == reference:
        return True
    current = group.owner_entitlement
    return live and (current is None or current.ends_at <= timezone.now())


def _seats_check(group: Group) -> None:
    """Ask the owner to remove members when the seats paid for are fewer than those taken."""
    taken = group.members.filter(status__in=SEAT_TAKING).count()
    if 0 < group.seats < taken:
        outbox_add(
            kind="group_too_few_seats",
            object_ref=f"group:{group.pk}",
            fact=f"{group.subscription_ref}:seats:{group.seats}:taken:{taken}",
            message=too_few_seats_email_build(group=group, taken=taken),
            user=group.owner,
        )


# No savepoint inside the subscription sync's transaction (two statements on every applied
# subscription): its failure fails the caller's whole unit, which no caller recovers from.
@transaction.atomic(savepoint=False)
def group_follow(
    *,
    owner: User,
    reference: str,
    plan: Plan | None,
    seats: int,
    owner_entitlement: Entitlement | None,
) -> Group | None:
    """Make the owner's group follow their subscription ``reference``: the seats are its
    quantity while it sells seats (``plan`` sold by seat), and every member's window is the
    owner's ``owner_entitlement`` (ended with it: grace and dunning included). Called by the
    subscription's sync in its transaction; returns the group, or None when there is none."""
    live = owner_entitlement is not None and owner_entitlement.ends_at > timezone.now()
    found = row_unique(Group.objects.filter(owner=owner).values_list("pk", flat=True))
    by_seat = plan is not None and plan.by_seat
    if found is None:
        if not (by_seat and live) or plan is None:
            return None
        try:
            with transaction.atomic():
                found = Group.objects.create(owner=owner, kind=plan.seat_kind).pk
        except IntegrityError:  # created meanwhile by a sync of another subscription
            found = Group.objects.get(owner=owner).pk
    group = _locked(found)
    if not _attach(group, reference, live):
        return group
    group.subscription_ref = reference
    group.owner_entitlement = owner_entitlement
    group.seats = seats if by_seat and live else 0
    if by_seat and plan is not None:
        group.plan, group.kind = plan, plan.seat_kind
    group.updated_at = timezone.now()
    group.save()
    for member in group.members.filter(status=MemberStatus.ACTIVE).select_related("user"):
        _member_sync(member, group)
    _seats_check(group)
    logger.info("Group %s of user %s follows %s: %s seats", group.pk, owner.pk, reference, seats)
    return group


@dataclass(frozen=True)
class Invitation:
    """A seat saved for an address, and the secret of its accept link (only in the email)."""

    member: GroupMember
    token: str


@transaction.atomic
def group_member_invite(*, owner: User, email: str) -> Invitation:
    """Save a seat of the owner's group for ``email`` and email them the link that accepts
    it. Refuses ``no_group`` (404), ``cannot_invite_yourself`` (400), ``already_invited``
    (409) and ``no_seat_left`` (409): the group's row is locked, so two invitations at once
    never take more seats than were paid for."""
    found = Group.objects.filter(owner=owner).values_list("pk", flat=True).first()
    group = _locked(found) if found is not None else None
    if group is None or _window(group)[0] is None:
        raise group_error(
            GroupErrorCode.NO_GROUP,
            "You have no family or group membership running. Choose a family or group plan.",
            404,
        )
    address = email.strip().lower()
    if address == owner.email.strip().lower():
        raise group_error(GroupErrorCode.SELF_INVITE, "You already have your own seat.", 400)
    taken = group.members.filter(status__in=SEAT_TAKING)
    if taken.filter(email=address).exists():
        raise group_error(
            GroupErrorCode.ALREADY_INVITED, f"{email} is already invited or a member.", 409
        )
    if taken.count() >= group.seats:
        raise group_error(
            GroupErrorCode.NO_SEAT_LEFT,
            f"Every one of your {group.seats} seats is taken. Remove a member, or add seats "
            "in the billing portal.",
            409,
        )
    token = secrets.token_urlsafe(32)
    member = GroupMember.objects.create(group=group, email=address, token_hash=token_hash(token))
    invitee = User.objects.filter(email__iexact=address).first()
    outbox_add(
        kind="group_invitation",
        object_ref=f"group-member:{member.pk}",
        fact="invited",
        message=invitation_email_build(group=group, to=member.email, token=token),
        user=invitee,
    )
    logger.info("User %s invited a member to group %s (seat %s)", owner.pk, group.pk, member.pk)
    return Invitation(member=member, token=token)


def _invitation(token: str) -> GroupMember:
    found = GroupMember.objects.filter(token_hash=token_hash(token)).first()
    if found is None:
        raise group_error(
            GroupErrorCode.INVITATION_NOT_FOUND, "This invitation link is not valid.", 404
        )
    return found


@transaction.atomic
def group_member_accept(*, user: User, token: str) -> GroupMember:
    """Give the signed-in reader the seat the invitation ``token`` saved: they read what the
    owner reads, until the owner's access ends. Accepting again is a no-op. Refuses
    ``invitation_not_found`` (404), ``invitation_used``, ``already_in_group``,
    ``group_ended``, ``no_seat_left`` (409) and the owner (400)."""
    group = _locked(_invitation(token).group_id)
    member = GroupMember.objects.select_for_update().get(token_hash=token_hash(token))
    if member.status == MemberStatus.ACTIVE and member.user_id == user.pk:
        return member
    if member.status != MemberStatus.INVITED:
        raise group_error(
            GroupErrorCode.INVITATION_USED, "This invitation was used or withdrawn.", 409
        )
    if group.owner_id == user.pk:
        raise group_error(GroupErrorCode.SELF_INVITE, "You already have your own seat.", 400)
    if GroupMember.objects.filter(user=user, status=MemberStatus.ACTIVE).exists():
        raise group_error(
            GroupErrorCode.ALREADY_IN_GROUP,
            "You are a member of another group already. Leave it first.",
            409,
        )
    if _window(group)[0] is None:
        raise group_error(GroupErrorCode.GROUP_ENDED, "This membership has ended.", 409)
    if group.members.filter(status=MemberStatus.ACTIVE).count() >= group.seats:
        raise group_error(GroupErrorCode.NO_SEAT_LEFT, "Every seat of this group is taken.", 409)
    member.user = user
    member.status = MemberStatus.ACTIVE
    member.accepted_at = timezone.now()
    member.save(update_fields=["user", "status", "accepted_at"])
    _member_sync(member, group)
    logger.info("User %s joined group %s (seat %s)", user.pk, group.pk, member.pk)
    return member


def _member_end(member: GroupMember, group: Group, status: str) -> None:
    member.status = status
    member.ended_at = timezone.now()
    member.save(update_fields=["status", "ended_at"])
    _member_sync(member, group)


@transaction.atomic
def group_member_remove(*, owner: User, member_id: int) -> GroupMember:
    """Free a seat of the owner's group: the member's access ends now (an invitation not
    yet accepted is withdrawn). Refuses ``member_not_found`` (404)."""
    found = Group.objects.filter(owner=owner).values_list("pk", flat=True).first()
    group = _locked(found) if found is not None else None
    member = (
        group.members.select_for_update(of=("self",))
        .filter(pk=member_id, status__in=SEAT_TAKING)
        .select_related("user")
        .first()
        if group is not None
        else None
    )
    if group is None or member is None:
        raise group_error(
            GroupErrorCode.MEMBER_NOT_FOUND, "There is no such member in your group.", 404
        )
    active = member.status == MemberStatus.ACTIVE
    _member_end(member, group, MemberStatus.REMOVED if active else MemberStatus.DECLINED)
    logger.info("User %s freed seat %s of group %s", owner.pk, member.pk, group.pk)
    return member


@transaction.atomic
def group_leave(*, user: User) -> GroupMember:
    """The reader leaves the group they belong to: their group access ends now; their own
    free trial, if they never had it, is still theirs. Refuses ``not_a_member`` (404)."""
    found = GroupMember.objects.filter(user=user, status=MemberStatus.ACTIVE).first()
    if found is None:
        raise group_error(GroupErrorCode.NOT_A_MEMBER, "You are not a member of a group.", 404)
    group = _locked(found.group_id)
    member = (
        GroupMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=found.pk)
    )
    if member.status != MemberStatus.ACTIVE:
        raise group_error(GroupErrorCode.NOT_A_MEMBER, "You are not a member of a group.", 404)
    _member_end(member, group, MemberStatus.LEFT)
    logger.info("User %s left group %s", user.pk, group.pk)
    return member
