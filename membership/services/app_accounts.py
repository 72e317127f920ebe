"""The reader's app-store account token: made once, then the same on every device."""

import uuid

from accounts.models import User
from membership.models import AppAccount


def app_account_token_get(*, user: User) -> uuid.UUID:
    """Return the reader's ``app_account_token``, making it the first time it is asked for.

    Two first requests at once make one token: the insert of the second is ignored, and both
    read the one stored (no savepoint, so it is safe inside a caller's transaction)."""
    tokens = AppAccount.objects.filter(user=user).values_list("token", flat=True)
    existing = tokens.first()
    if existing is not None:
        return existing
    AppAccount.objects.bulk_create(
        [AppAccount(user=user, token=uuid.uuid4())], ignore_conflicts=True
    )
    return tokens.get()
