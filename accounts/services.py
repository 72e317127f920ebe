"""Writes about a reader's account that allauth does not make itself."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User


@transaction.atomic
def email_address_record(*, user: User) -> EmailAddress:
    """Record the reader's sign-in address as their primary, unverified allauth address,
    unless it is recorded already: a member created by staff then sees the ``verify_email``
    paywall, and allauth's "send the confirmation again" finds the address to send to."""
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email__iexact=user.email, defaults={"email": user.email, "primary": True}
    )
    return address
