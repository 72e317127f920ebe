"""The demo's family group and credit packs, made at the offline Stripe and printed."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from billing.models import CreditPack
from groups.models import Group
from membership.access import article_access
from membership.models import SeatKind
from tests.billing import conftest as billing_fixtures
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

sandbox_api = billing_fixtures.sandbox_api
_shared_sandbox = billing_fixtures._shared_sandbox


def test_the_demo_prints_a_family_group_and_runs_twice_without_change(sandbox_api: Any) -> None:
    out = StringIO()
    call_command("billing_seed_seats_demo", stdout=out)
    call_command("billing_seed_seats_demo", stdout=StringIO())

    group = Group.objects.get()
    assert (group.kind, group.seats) == (SeatKind.FAMILY, 4)
    statuses = sorted(group.members.values_list("status", flat=True))
    assert statuses == ["active", "invited"]
    member = group.members.get(status="active").user
    assert article_access(reader=member, article=ArticleFactory()).reason == "group"
    printed = out.getvalue()
    assert "family.owner@masthead.localhost" in printed and "2 of 4 taken" in printed
    assert "family.member@masthead.localhost" in printed
    assert all(pack.on_sale for pack in CreditPack.objects.all())
    assert CreditPack.objects.count() == 2
