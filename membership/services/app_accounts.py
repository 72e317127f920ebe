"""The reader's app-store account token: made once, then the same on every device."""

import uuid

from django.db import IntegrityError, transaction

from accounts.models import User
from membership.models import AppAccount


def app_account_token_get(*, user: User) -> uuid.UUID:
    """Return the reader's ``app_account_token``, making it the first time it is asked for.

    Two first requests at once make one token: the loser of the race reads the winner's."""
    existing = AppAccount.objects.filter(user=user).values_list("token", flat=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return AppAccount.objects.create(user=user, token=uuid.uuid4()).token
    except IntegrityError:
        return AppAccount.objects.values_list("token", flat=True).get(user=user)
