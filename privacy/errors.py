"""Privacy's refusals, each with a stable code."""

from core.errors import ApplicationError


class PrivacyErrorCode:
    EXPORT_LIMIT = "export_limit"
    PASSWORD_INCORRECT = "password_incorrect"  # noqa: S105 (an error code)
    PASSWORD_REQUIRED = "password_required"  # noqa: S105 (an error code)
    STAFF_ACCOUNT = "staff_account"


def export_limit() -> ApplicationError:
    return ApplicationError(
        code=PrivacyErrorCode.EXPORT_LIMIT,
        message="You asked for an export of your data in the last 24 hours. "
        "You can ask again a day after that one.",
        status=429,
    )


def password_incorrect() -> ApplicationError:
    return ApplicationError(
        code=PrivacyErrorCode.PASSWORD_INCORRECT,
        message="That password is not right. Your account has not been deleted.",
        status=403,
    )


def password_required() -> ApplicationError:
    return ApplicationError(
        code=PrivacyErrorCode.PASSWORD_REQUIRED,
        message="Enter your password to delete your account (or sign in again first).",
        status=400,
    )


def staff_account() -> ApplicationError:
    return ApplicationError(
        code=PrivacyErrorCode.STAFF_ACCOUNT,
        message="A staff account cannot be deleted this way; ask another administrator.",
        status=409,
    )
