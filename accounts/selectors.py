"""Reads about a reader's account."""

from allauth.account.models import EmailAddress

from accounts.models import User


def email_address_verified(*, user: User) -> bool:
    """Whether the reader's primary address (the one they sign in with) is verified: allauth
    keeps ``EmailAddress.verified``, set when the reader follows the confirmation link."""
    return EmailAddress.objects.filter(user_id=user.pk, primary=True, verified=True).exists()
