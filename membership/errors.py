"""Membership's refusals, each with a stable code the API and pages can rely on."""

from core.errors import ApplicationError


class MembershipErrorCode:
    TRIAL_ALREADY_USED = "trial_already_used"
    INVALID_WINDOW = "invalid_window"
    EMAIL_UNVERIFIED = "email_unverified"


def trial_already_used() -> ApplicationError:
    return ApplicationError(
        code=MembershipErrorCode.TRIAL_ALREADY_USED,
        message="You have already had your free trial. Choose a plan to keep reading.",
        status=409,
    )


def email_unverified() -> ApplicationError:
    return ApplicationError(
        code=MembershipErrorCode.EMAIL_UNVERIFIED,
        message="Verify your email address to start your free trial: follow the link we "
        "emailed you, or ask for a new one.",
        status=403,
    )
