"""Groups whose owner's subscription is written as the subscription's sync writes it."""

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from groups.models import Group
from groups.services import group_follow
from membership.models import Entitlement, EntitlementSource, OutboxMessage, Plan, SeatKind
from membership.services import entitlement_sync
from tests.factories import PlanFactory, UserFactory


def owner_synced(
    owner: Any, plan: Plan, *, seats: int, ends_at: datetime | None, reference: str = "sub_fam"
) -> Group | None:
    """Apply the owner's subscription as ``billing.services`` does: their entitlement, then
    the group following it."""
    entitlement = entitlement_sync(
        user=owner, source=EntitlementSource.SUBSCRIPTION, reference=reference, ends_at=ends_at
    )
    return group_follow(
        owner=owner, reference=reference, plan=plan, seats=seats, owner_entitlement=entitlement
    )


def invitation_token(email: str) -> str:
    """The token of the newest invitation emailed to ``email`` (from its accept link)."""
    message = OutboxMessage.objects.filter(to=email, kind="group_invitation").latest("pk")
    found = re.search(r"/groups/join/([^/\s]+)/", message.body)
    assert found, message.body
    return found.group(1)


@pytest.fixture
def family_plan(db: Any) -> Plan:
    return PlanFactory(seat_kind=SeatKind.FAMILY, min_seats=2, max_seats=6)


@pytest.fixture
def family(family_plan: Plan) -> Callable[..., tuple[Any, Group]]:
    """An owner whose family subscription with ``seats`` runs for 30 days."""

    def make(seats: int = 3) -> tuple[Any, Group]:
        owner = UserFactory()
        group = owner_synced(
            owner, family_plan, seats=seats, ends_at=timezone.now() + timedelta(days=30)
        )
        assert group is not None
        return owner, group

    return make


def group_entitlement(user: Any) -> Entitlement:
    return Entitlement.objects.get(user=user, source=EntitlementSource.GROUP)
