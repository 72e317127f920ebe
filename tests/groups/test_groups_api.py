"""The group API: the owner invites by email and removes members, an invited reader
accepts, a member leaves; members read what the owner reads, for as long as the owner."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from groups.models import GroupMember
from membership.access import article_access
from membership.models import OutboxMessage
from tests.factories import ArticleFactory, UserFactory
from tests.groups.conftest import group_entitlement, invitation_token, owner_synced

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/groups/mine/members/"
ACCEPT = "/api/v1/groups/accept/"


def client_of(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_owner_invites_by_email_and_the_invitee_gets_a_link(family) -> None:
    owner, _ = family(seats=3)

    response = client_of(owner).post(MEMBERS, {"email": "Kid@Example.com"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "invited"
    email = OutboxMessage.objects.get(kind="group_invitation")
    assert email.to == "kid@example.com"
    assert "http://" in email.body and "/groups/join/" in email.body
    assert owner.email in email.body


def test_a_reader_without_a_group_cannot_invite(reader_client) -> None:
    response = reader_client.post(MEMBERS, {"email": "kid@example.com"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_group"


def test_an_anonymous_visitor_cannot_invite(api_client) -> None:
    assert api_client.post(MEMBERS, {"email": "a@example.com"}, format="json").status_code in (
        401,
        403,
    )


@pytest.mark.parametrize("body", [{}, {"email": "not-an-address"}, {"email": ["a@b.c"]}])
def test_a_bad_invitation_is_refused(family, body) -> None:
    owner, _ = family()

    response = client_of(owner).post(MEMBERS, body, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["error"]


def test_no_more_invitations_than_seats(family) -> None:
    owner, _ = family(seats=2)
    client = client_of(owner)
    for n in range(2):
        assert (
            client.post(MEMBERS, {"email": f"m{n}@example.com"}, format="json").status_code == 201
        )

    response = client.post(MEMBERS, {"email": "m9@example.com"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_seat_left"
    again = client.post(MEMBERS, {"email": "m0@example.com"}, format="json")
    assert again.status_code == 409  # full, and already invited anyway


def test_the_same_address_is_invited_once(family) -> None:
    owner, _ = family(seats=4)
    client = client_of(owner)
    client.post(MEMBERS, {"email": "m@example.com"}, format="json")

    response = client.post(MEMBERS, {"email": "M@example.com"}, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "already_invited")


def test_a_member_reads_what_the_owner_reads_until_the_owner_stops(family, family_plan) -> None:
    owner, _ = family(seats=3)
    client_of(owner).post(MEMBERS, {"email": "kid@example.com"}, format="json")
    kid = UserFactory(email="kid@example.com")
    article = ArticleFactory()
    assert article_access(reader=kid, article=article).granted is False

    response = client_of(kid).post(ACCEPT, {"token": invitation_token(kid.email)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["role"] == "member"
    assert article_access(reader=kid, article=article).reason == "group"
    owner_end = owner.entitlements.get().ends_at
    assert group_entitlement(kid).ends_at == owner_end
    # The owner's window moves (a renewal, or a grace period): the member's follows.
    later = timezone.now() + timedelta(days=60)
    owner_synced(owner, family_plan, seats=3, ends_at=later)
    assert group_entitlement(kid).ends_at == later
    # The owner's subscription ends: so does the member's access, in the same sync.
    owner_synced(owner, family_plan, seats=3, ends_at=None)
    assert article_access(reader=kid, article=article).granted is False
    assert group_entitlement(kid).ends_at <= timezone.now()


def test_accepting_twice_is_a_no_op_and_a_used_link_is_refused(family) -> None:
    owner, _ = family(seats=3)
    client_of(owner).post(MEMBERS, {"email": "kid@example.com"}, format="json")
    token = invitation_token("kid@example.com")
    kid, other = UserFactory(), UserFactory()

    assert client_of(kid).post(ACCEPT, {"token": token}, format="json").status_code == 200
    assert client_of(kid).post(ACCEPT, {"token": token}, format="json").status_code == 200
    used = client_of(other).post(ACCEPT, {"token": token}, format="json")

    assert (used.status_code, used.json()["error"]["code"]) == (409, "invitation_used")
    assert GroupMember.objects.get().user == kid


def test_a_wrong_token_and_an_anonymous_accept_are_refused(family, api_client) -> None:
    reader = UserFactory()

    wrong = client_of(reader).post(ACCEPT, {"token": "nope"}, format="json")
    anonymous = api_client.post(ACCEPT, {"token": "nope"}, format="json")
    empty = client_of(reader).post(ACCEPT, {}, format="json")

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (404, "invitation_not_found")
    assert anonymous.status_code in (401, 403)
    assert empty.status_code == 400


def test_the_owner_removes_a_member_whose_access_ends_at_once(family) -> None:
    owner, _ = family(seats=3)
    client_of(owner).post(MEMBERS, {"email": "kid@example.com"}, format="json")
    kid = UserFactory(email="kid@example.com")
    client_of(kid).post(ACCEPT, {"token": invitation_token(kid.email)}, format="json")
    member = GroupMember.objects.get()
    article = ArticleFactory()

    response = client_of(owner).delete(f"{MEMBERS}{member.pk}/")

    assert response.status_code == 204
    assert article_access(reader=kid, article=article).granted is False
    member.refresh_from_db()
    assert member.status == "removed"
    # The seat is free again.
    assert (
        client_of(owner).post(MEMBERS, {"email": "b@example.com"}, format="json").status_code == 201
    )


def test_nobody_else_removes_a_member(family) -> None:
    owner, _ = family(seats=3)
    client_of(owner).post(MEMBERS, {"email": "kid@example.com"}, format="json")
    member = GroupMember.objects.get()

    response = client_of(UserFactory()).delete(f"{MEMBERS}{member.pk}/")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "member_not_found")
    member.refresh_from_db()
    assert member.status == "invited"


def test_a_member_who_leaves_keeps_their_own_trial(family) -> None:
    owner, _ = family(seats=3)
    client_of(owner).post(MEMBERS, {"email": "kid@example.com"}, format="json")
    kid = UserFactory(email="kid@example.com")
    client_of(kid).post(ACCEPT, {"token": invitation_token(kid.email)}, format="json")

    response = client_of(kid).post("/api/v1/groups/leave/")

    assert response.status_code == 204
    kid.refresh_from_db()
    assert kid.trial_used_at is None
    me = client_of(kid).get("/api/v1/me/").json()
    assert me["group"] is None
    assert me["trial_eligibility"] in ("available", "verify_email")
    assert client_of(kid).post("/api/v1/groups/leave/").status_code == 404


def test_fewer_seats_than_members_asks_the_owner_to_remove_members(family, family_plan) -> None:
    owner, _ = family(seats=3)
    client = client_of(owner)
    for n in range(3):
        client.post(MEMBERS, {"email": f"m{n}@example.com"}, format="json")

    owner_synced(owner, family_plan, seats=2, ends_at=timezone.now() + timedelta(days=30))

    mine = client.get("/api/v1/groups/mine/").json()
    assert mine["seats"] == 2 and mine["seats_taken"] == 3
    assert mine["needs_member_removal"] is True
    assert "remove members first" in mine["message"]
    assert OutboxMessage.objects.filter(kind="group_too_few_seats", to=owner.email).count() == 1
    assert client.post(MEMBERS, {"email": "x@example.com"}, format="json").status_code == 409


def test_me_shows_the_group_to_owner_and_member(family) -> None:
    owner, _ = family(seats=3)
    client_of(owner).post(MEMBERS, {"email": "kid@example.com"}, format="json")
    kid = UserFactory(email="kid@example.com")
    client_of(kid).post(ACCEPT, {"token": invitation_token(kid.email)}, format="json")

    mine = client_of(owner).get("/api/v1/me/")
    theirs = client_of(kid).get("/api/v1/me/").json()["group"]

    assert "no-store" in mine["Cache-Control"]
    group = mine.json()["group"]
    assert (group["role"], group["seats"], group["seats_taken"]) == ("owner", 3, 1)
    assert group["members"][0]["email"] == "kid@example.com"
    assert group["members"][0]["status"] == "active"
    assert (theirs["role"], theirs["owner_email"], theirs["members"]) == ("member", owner.email, [])
