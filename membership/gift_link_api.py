"""The gift-link API: a paying reader gives a link to an article and sees their links."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from core.api import error_responses
from membership.gift_link_selectors import (
    gift_allowance_get,
    gift_link_opens_left,
    gift_link_rows,
    gift_link_url,
)
from membership.models import GiftLinkState
from membership.selectors import article_get
from membership.services.gift_links import gift_link_create


def _reader(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class GiftLinkCreateInput(serializers.Serializer):
    """No fields: the body is empty or a JSON object."""


class GiftLinkOutput(serializers.Serializer):
    url = serializers.URLField(help_text="Send this address; it opens the whole article.")
    token = serializers.CharField(help_text="The app opens the article with ?gift=<token>.")
    expires_at = serializers.DateTimeField()
    opens_left = serializers.IntegerField(help_text="Devices or readers it may still open on.")
    gifts_remaining = serializers.IntegerField(help_text="Gift links left this month.")


class GiftLinkCreateApi(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (UserRateThrottle,)

    @extend_schema(
        request=GiftLinkCreateInput,
        responses={201: GiftLinkOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Give a gift link to the article (sharing it again this month returns the same
        link, at no cost). 403 ``gift_links_paid_only`` without paid access to its title,
        409 ``gift_links_used_up`` past the month's allowance, ``gift_link_revoked`` when
        this month's link to it was withdrawn, ``gift_link_article_free`` for a free one."""
        GiftLinkCreateInput(data=request.data).is_valid(raise_exception=True)
        giver = _reader(request)
        article = article_get(article_id=pk)
        given = gift_link_create(giver=giver, article=article)
        output = {
            "url": gift_link_url(article_id=article.pk, token=given.token),
            "token": given.token,
            "expires_at": given.link.expires_at,
            "opens_left": gift_link_opens_left(given.link),
            "gifts_remaining": gift_allowance_get(giver=giver).remaining,
        }
        return Response(GiftLinkOutput(output).data, status=status.HTTP_201_CREATED)


class GiftArticleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    headline = serializers.CharField()


class GiftLinkRowOutput(serializers.Serializer):
    url = serializers.CharField(help_text="Empty if it can no longer be shown.")
    token = serializers.CharField()
    article = GiftArticleOutput(source="link.article")
    created_at = serializers.DateTimeField(source="link.created_at")
    expires_at = serializers.DateTimeField(source="link.expires_at")
    opens = serializers.IntegerField(source="link.opens")
    opens_left = serializers.IntegerField()
    state = serializers.ChoiceField(choices=GiftLinkState.choices)


class GiftLinkListOutput(serializers.Serializer):
    limit = serializers.IntegerField(help_text="Gift links a month.")
    given = serializers.IntegerField(help_text="Given this month.")
    remaining = serializers.IntegerField(help_text="Left this month.")
    resets_at = serializers.DateTimeField(help_text="When the month's count starts again.")
    links = GiftLinkRowOutput(many=True, help_text="The latest links, newest first.")


class MyGiftLinkListApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: GiftLinkListOutput, **error_responses(401)})
    def get(self, request: Request) -> Response:
        """List the reader's gift links (opens, state) and the gifts left this month."""
        giver = _reader(request)
        allowance = gift_allowance_get(giver=giver)
        data = {
            "limit": allowance.limit,
            "given": allowance.given,
            "remaining": allowance.remaining,
            "resets_at": allowance.resets_at,
            "links": gift_link_rows(giver=giver),
        }
        return Response(GiftLinkListOutput(data).data)
