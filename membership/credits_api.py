"""Unlocking an article with a credit, and the reader's credits in ``/me/``."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import error_responses
from membership.access import article_access
from membership.api import ArticleDetailOutput
from membership.selectors import article_get, credit_balance_get, credit_unlocks_list
from membership.services import credit_spend


class UnlockedArticleOutput(serializers.Serializer):
    id = serializers.IntegerField(source="article.id")
    headline = serializers.CharField(source="article.headline")
    title = serializers.CharField(source="article.title.name")
    unlocked_at = serializers.DateTimeField(source="created_at")


class CreditsOutput(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Credits not spent yet.")
    unlocked = UnlockedArticleOutput(many=True, help_text="Articles unlocked with a credit.")


def credits_summary(*, user: User, had_credits: bool = True) -> dict[str, object]:
    """The reader's balance and unlocked articles, as ``/me/`` shows them; nothing is asked
    of a reader who never had credits (``had_credits`` False)."""
    if not had_credits:
        return {"balance": 0, "unlocked": []}
    return {"balance": credit_balance_get(user=user), "unlocked": credit_unlocks_list(user=user)}


class UnlockOutput(serializers.Serializer):
    credits = serializers.IntegerField(help_text="Credits left.")
    article = ArticleDetailOutput()


class UnlockInput(serializers.Serializer):
    """No fields: the body is empty or a JSON object."""


class ArticleUnlockApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=UnlockInput,
        responses={201: UnlockOutput, **error_responses(400, 401, 402, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Spend one credit to read this article for good (unlocking it again spends
        nothing); answers with the article's body. 402 ``no_credits``, 409
        ``already_readable`` for an article the reader may read already."""
        UnlockInput(data=request.data).is_valid(raise_exception=True)
        reader = request.user
        assert isinstance(reader, User)
        article = article_get(article_id=pk)
        credit_spend(user=reader, article=article)
        decision = article_access(reader=reader, article=article)
        context = {"decide": lambda _: decision, "reader": reader}
        body = {
            "credits": credit_balance_get(user=reader),
            "article": ArticleDetailOutput(article, context=context).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)
