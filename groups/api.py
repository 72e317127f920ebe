"""The group API: the owner's group and its seats; accepting an invitation; leaving."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import error_responses
from groups.errors import GroupErrorCode, group_error
from groups.selectors import group_owned_get, group_view_get
from groups.services import (
    group_leave,
    group_member_accept,
    group_member_invite,
    group_member_remove,
)


def _reader(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class SeatOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    status = serializers.ChoiceField(choices=["invited", "active"])
    accepted_at = serializers.DateTimeField(allow_null=True)


class GroupOutput(serializers.Serializer):
    role = serializers.ChoiceField(choices=["owner", "member"])
    kind = serializers.ChoiceField(choices=["family", "group"])
    plan = serializers.CharField()
    owner_email = serializers.EmailField()
    seats = serializers.IntegerField(help_text="Seats paid for.")
    seats_taken = serializers.IntegerField(help_text="Members and invitations waiting.")
    active = serializers.BooleanField(help_text="Whether the owner's membership runs now.")
    ends_at = serializers.DateTimeField(allow_null=True, help_text="When members' access ends.")
    needs_member_removal = serializers.BooleanField(
        help_text="Fewer seats than members: the owner must remove members first."
    )
    message = serializers.CharField(allow_blank=True)
    members = SeatOutput(many=True, help_text="The owner's view only.")


class GroupMineApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: GroupOutput, **error_responses(401, 404)})
    def get(self, request: Request) -> Response:
        """The family or group the reader owns, with its seats. 404 ``no_group``."""
        found = group_owned_get(user=_reader(request))
        if found is None:
            raise group_error(GroupErrorCode.NO_GROUP, "You own no family or group.", 404)
        return Response(GroupOutput(found).data)


class InviteInput(serializers.Serializer):
    email = serializers.EmailField()


class GroupMembersApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=InviteInput, responses={201: SeatOutput, **error_responses(400, 401, 404, 409)}
    )
    def post(self, request: Request) -> Response:
        """Invite a reader by email to a seat of the reader's group; they get a link to
        accept after signing in or up. 409 ``no_seat_left``, ``already_invited``."""
        data = InviteInput(data=request.data)
        data.is_valid(raise_exception=True)
        invited = group_member_invite(owner=_reader(request), email=data.validated_data["email"])
        member = invited.member
        seat = {"id": member.pk, "email": member.email, "status": member.status,
                "accepted_at": None}  # fmt: skip
        return Response(SeatOutput(seat).data, status=status.HTTP_201_CREATED)


class GroupMemberApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={204: None, **error_responses(401, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        """Remove a member (their access ends now) or withdraw an invitation."""
        group_member_remove(owner=_reader(request), member_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AcceptInput(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="From the invitation's link.")


class GroupAcceptApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=AcceptInput, responses={200: GroupOutput, **error_responses(400, 401, 404, 409)}
    )
    def post(self, request: Request) -> Response:
        """Accept an invitation: read what the group's owner reads, while they do.
        404 ``invitation_not_found``; 409 ``invitation_used``, ``no_seat_left``,
        ``already_in_group``, ``group_ended``."""
        data = AcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        reader = _reader(request)
        group_member_accept(user=reader, token=data.validated_data["token"])
        return Response(GroupOutput(group_view_get(user=reader)).data)


class GroupLeaveApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={204: None, **error_responses(401, 404)})
    def post(self, request: Request) -> Response:
        """Leave the group the reader belongs to; group access ends now. 404 ``not_a_member``."""
        group_leave(user=_reader(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
