"""Refusals of the group and family memberships."""

from core.errors import ApplicationError


class GroupErrorCode:
    NO_GROUP = "no_group"
    NO_SEAT_LEFT = "no_seat_left"
    ALREADY_INVITED = "already_invited"
    SELF_INVITE = "cannot_invite_yourself"
    INVITATION_NOT_FOUND = "invitation_not_found"
    INVITATION_USED = "invitation_used"
    ALREADY_IN_GROUP = "already_in_group"
    GROUP_ENDED = "group_ended"
    MEMBER_NOT_FOUND = "member_not_found"
    NOT_A_MEMBER = "not_a_member"


def group_error(code: str, message: str, status: int) -> ApplicationError:
    return ApplicationError(code=code, message=message, status=status)
