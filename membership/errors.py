"""Membership's refusals, each with a stable code the API and pages can rely on."""

from core.errors import ApplicationError


class MembershipErrorCode:
    TRIAL_ALREADY_USED = "trial_already_used"
    INVALID_WINDOW = "invalid_window"
    EMAIL_UNVERIFIED = "email_unverified"
    GIFT_LINKS_PAID_ONLY = "gift_links_paid_only"
    GIFT_LINKS_USED_UP = "gift_links_used_up"
    GIFT_LINK_ARTICLE_FREE = "gift_link_article_free"
    GIFT_LINK_REVOKED = "gift_link_revoked"


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


def gift_links_paid_only() -> ApplicationError:
    return ApplicationError(
        code=MembershipErrorCode.GIFT_LINKS_PAID_ONLY,
        message="Gift links are for members with a paid subscription to this article's title.",
        status=403,
    )


def gift_links_used_up(*, per_month: int) -> ApplicationError:
    return ApplicationError(
        code=MembershipErrorCode.GIFT_LINKS_USED_UP,
        message=f"You have given your {per_month} gift links this month. More on the 1st.",
        status=409,
    )


def gift_link_article_free() -> ApplicationError:
    return ApplicationError(
        code=MembershipErrorCode.GIFT_LINK_ARTICLE_FREE,
        message="This article is free to read: share its address as it is.",
        status=409,
    )


def gift_link_revoked() -> ApplicationError:
    return ApplicationError(
        code=MembershipErrorCode.GIFT_LINK_REVOKED,
        message="Your gift link to this article was withdrawn this month.",
        status=409,
    )
