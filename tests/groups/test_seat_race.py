"""Invitations racing for the last seats, on PostgreSQL: the group's row is locked, so no
more seats are taken than were paid for."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.errors import ApplicationError
from groups.models import GroupMember
from groups.services import group_member_invite

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks: run with DATABASE_URL=postgres://"
    ),
]


def test_parallel_invitations_never_take_more_seats_than_paid_for(family) -> None:
    owner, group = family(seats=2)
    start = threading.Barrier(8)

    def invite(n: int) -> str:
        try:
            start.wait()
            group_member_invite(owner=owner, email=f"racer{n}@example.com")
            return "invited"
        except ApplicationError as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(invite, range(8)))

    assert sorted(outcomes) == ["invited"] * 2 + ["no_seat_left"] * 6
    assert GroupMember.objects.filter(group=group, status="invited").count() == 2
