"""Membership's refusals, each with a stable code the API and pages can rely on."""

from config.errors import ApplicationError


class MembershipErrorCode:
    TRIAL_ALREADY_USED = "trial_already_used"
    INVALID_WINDOW = "invalid_window"


def trial_already_used() -> ApplicationError:
    return ApplicationError(
        code=MembershipErrorCode.TRIAL_ALREADY_USED,
        message="You have already had your free trial. Choose a plan to keep reading.",
        status=409,
    )
