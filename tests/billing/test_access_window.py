"""How long a subscription lets its reader read, for each state Stripe reports."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from billing.models import Subscription
from billing.services import subscription_access_until

PERIOD_END = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FAILED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def window(**fields: object) -> datetime | None:
    subscription = Subscription(current_period_end=PERIOD_END, **fields)
    return subscription_access_until(subscription)


def test_a_paid_period_runs_to_its_end_plus_the_renewal_leeway() -> None:
    leeway = timedelta(hours=settings.BILLING_RENEWAL_LEEWAY_HOURS)
    assert window(status="active") == PERIOD_END + leeway
    assert window(status="trialing") == PERIOD_END + leeway


def test_an_ending_subscription_stops_exactly_at_its_moment() -> None:
    assert window(status="active", cancel_at_period_end=True) == PERIOD_END
    cancel_at = PERIOD_END - timedelta(days=3)
    assert window(status="active", cancel_at=cancel_at) == cancel_at


def test_past_due_keeps_access_for_the_grace_days_after_the_first_failure() -> None:
    grace = timedelta(days=settings.BILLING_GRACE_DAYS)
    assert window(status="past_due", payment_failed_at=FAILED_AT) == FAILED_AT + grace


@pytest.mark.parametrize(
    "status", ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused"]
)
def test_other_states_give_no_access(status: str) -> None:
    assert window(status=status) is None
