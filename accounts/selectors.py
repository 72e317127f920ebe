"""Reads about a reader's account."""

from typing import Any

from allauth.account.models import EmailAddress
from django.db.models import Exists

from accounts.models import User


def email_verified_exists(user_id: Any) -> Exists:
    """``email_address_verified`` as an expression, for ``user_id`` (a value or ``OuterRef``)."""
    return Exists(EmailAddress.objects.filter(user_id=user_id, primary=True, verified=True))


def email_address_verified(*, user: User) -> bool:
    """Whether the reader's primary address (the one they sign in with) is verified: allauth
    keeps ``EmailAddress.verified``, set when the reader follows the confirmation link."""
    return EmailAddress.objects.filter(user_id=user.pk, primary=True, verified=True).exists()
