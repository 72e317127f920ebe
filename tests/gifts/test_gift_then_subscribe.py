"""A gift member who subscribes keeps the rest of the gift as the subscription's free trial."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.checkout import checkout_trial_ends
from membership.models import EntitlementSource
from membership.services import entitlement_grant
from tests.factories import PlanFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_remaining_gift_days_become_the_trial() -> None:
    plan = PlanFactory(trial_days=14)
    reader = UserFactory(trial_used_at=timezone.now() - timedelta(days=100))
    now = timezone.now()
    gift_end = now + timedelta(days=40)
    entitlement_grant(
        user=reader, source=EntitlementSource.GIFT, ends_at=gift_end, reference="gift:1"
    )

    assert checkout_trial_ends(user=reader, plans=[plan], now=now)[plan.pk] == gift_end


def test_a_gift_ending_within_two_days_gives_no_trial() -> None:
    plan = PlanFactory(trial_days=14)
    reader = UserFactory(trial_used_at=timezone.now() - timedelta(days=100))
    now = timezone.now()
    entitlement_grant(
        user=reader,
        source=EntitlementSource.GIFT,
        ends_at=now + timedelta(hours=30),
        reference="gift:2",
    )

    assert checkout_trial_ends(user=reader, plans=[plan], now=now)[plan.pk] is None
