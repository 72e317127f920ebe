"""The web sign-in form: allauth's, with a lockout message that says how long to wait."""

import math
from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.core.internal.ratelimit import parse_rates
from django.conf import settings
from django.core.exceptions import ValidationError

LOCKED_OUT = "too_many_login_attempts"


def lockout_minutes() -> int:
    """Return, in whole minutes, the longest window of the failed sign-in limits: the
    longest a reader who hit one waits before signing in again."""
    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS.get("login_failed"))
    return max((math.ceil(rate.duration / 60) for rate in rates), default=1)


def lockout_message() -> str:
    minutes = lockout_minutes()
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    return (
        "Too many failed sign-in attempts. For your security, signing in is paused: "
        f"try again in {wait}, or reset your password."
    )


class LoginForm(AllauthLoginForm):
    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError as error:
            if error.code == LOCKED_OUT:
                raise ValidationError(lockout_message(), code=LOCKED_OUT) from error
            raise
