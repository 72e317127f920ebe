"""Nightly reconciliation of store subscriptions: ask the stores again about every
subscription that gives access, or did lately, and apply what they say (a notification may
have been lost: the stores retry for days, but not for ever)."""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from appstores.errors import StoreError
from appstores.models import StoreSubscription, StoreSubscriptionStatus
from appstores.services import store_subscription_refresh

logger = logging.getLogger(__name__)

# Subscriptions that ended longer ago than this are not asked about again.
LOOK_BACK = timedelta(days=7)


@dataclass
class StoreReconcileReport:
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"{self.checked} store subscriptions checked",
            *(f"changed: {line}" for line in self.changed),
            *(f"could not check: {line}" for line in self.failed),
        ]


def store_subscriptions_to_check() -> list[StoreSubscription]:
    """Subscriptions giving access, or whose access ended within ``LOOK_BACK``."""
    since = timezone.now() - LOOK_BACK
    return list(
        StoreSubscription.objects.exclude(status=StoreSubscriptionStatus.REPLACED)
        .filter(Q(access_until__gt=since) | Q(access_until__isnull=True, synced_at__gt=since))
        .order_by("pk")
    )


def store_subscriptions_reconcile() -> StoreReconcileReport:
    """Fetch and apply each subscription to check; report what changed or could not be read."""
    report = StoreReconcileReport()
    for subscription in store_subscriptions_to_check():
        report.checked += 1
        before = (subscription.status, subscription.access_until)
        try:
            after = store_subscription_refresh(subscription=subscription)
        except StoreError as exc:
            report.failed.append(f"{subscription}: {exc.message}")
            continue
        if (after.status, after.access_until) != before:
            report.changed.append(f"{after}: {before[0]} -> {after.status}")
    return report
