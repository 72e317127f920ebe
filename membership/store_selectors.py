"""Reads about subscriptions bought in an app store, as membership sees them: entitlements
of the store sources and the readers' app-store tokens. Billing asks these (it never
imports appstores), and so does the appstores app about Stripe subscribers."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from accounts.models import User
from membership.models import STORE_SOURCES, AppAccount, Entitlement, EntitlementSource

# Where a reader manages a subscription bought in a store.
STORE_MANAGE_URLS = {
    EntitlementSource.APPLE: "https://apps.apple.com/account/subscriptions",
    EntitlementSource.GOOGLE: "https://play.google.com/store/account/subscriptions",
}
STORE_NAMES = {
    EntitlementSource.APPLE: "the Apple App Store",
    EntitlementSource.GOOGLE: "Google Play",
    EntitlementSource.SUBSCRIPTION: "the Masthead website",
}


@dataclass(frozen=True)
class StoreMembership:
    """A live subscription bought in a store: which store, until when, where to manage it."""

    store: str
    ends_at: datetime
    manage_url: str
    note: str

    @property
    def store_name(self) -> str:
        return STORE_NAMES[EntitlementSource(self.store)]


def store_membership_get(*, user: User) -> StoreMembership | None:
    """Return the reader's live app-store subscription (the one lasting longest), or None."""
    now = timezone.now()
    entitlement = (
        Entitlement.objects.filter(user=user, source__in=STORE_SOURCES, revoked_at__isnull=True)
        .filter(starts_at__lte=now, ends_at__gt=now)
        .order_by("-ends_at")
        .first()
    )
    if entitlement is None:
        return None
    source = EntitlementSource(entitlement.source)
    return StoreMembership(
        source.value, entitlement.ends_at, STORE_MANAGE_URLS[source], entitlement.note
    )


def web_subscription_live(*, user: User) -> bool:
    """Whether the reader has live access from a subscription paid on the website."""
    return (
        Entitlement.objects.live().filter(user=user, source=EntitlementSource.SUBSCRIPTION).exists()
    )


def app_account_reader_get(*, token: uuid.UUID | str) -> User | None:
    """Return the reader whose ``app_account_token`` this is, or None."""
    try:
        value = uuid.UUID(str(token))
    except ValueError:
        return None
    account = AppAccount.objects.select_related("user").filter(token=value).first()
    return None if account is None else account.user
