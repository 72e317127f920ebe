"""The support desk's API: why the paywall lets a reader read an article, or not.

Staff only. The answer is the admin's "Explain access" page as JSON: the paywall's own
decision, the reader's entitlements it considered and the events that led there.
"""

from typing import Any

from django.core.validators import slug_re
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import error_responses, mark_reader_specific
from membership.models import Article, Title
from membership.selectors import access_explain


class AccessExplainInput(serializers.Serializer):
    reader = serializers.EmailField(max_length=254, help_text="The reader's email address.")
    article = serializers.IntegerField(
        required=False, min_value=1, max_value=2**53, help_text="The article's id."
    )
    title = serializers.CharField(
        required=False, max_length=80, help_text="Or a title's slug: any premium article of it."
    )

    def validate_title(self, value: str) -> str:
        if not slug_re.match(value):
            raise serializers.ValidationError("Enter a title's slug.")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("article" in data) == ("title" in data):
            raise serializers.ValidationError("Give either article or title.")
        return data


class DecisionOutput(serializers.Serializer):
    granted = serializers.BooleanField()
    reason = serializers.CharField()


class ExplainedReaderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    trial_used_at = serializers.DateTimeField(allow_null=True)
    payment_issue_since = serializers.DateTimeField(allow_null=True)


class ExplainedArticleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    headline = serializers.CharField()
    is_free = serializers.BooleanField()


class ExplainedTitleOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    is_premium = serializers.BooleanField()


class EntitlementConsideredOutput(serializers.Serializer):
    id = serializers.IntegerField(source="entitlement.pk")
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    titles = serializers.ListField(child=serializers.CharField(), help_text="Names.")
    state = serializers.CharField(help_text="live, not begun, ended or revoked.")
    covers = serializers.BooleanField(help_text="Covers the article's title.")
    counts = serializers.BooleanField(help_text="Live and covering: the decision counts it.")


class TimelineEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    subject = serializers.CharField()
    kind = serializers.CharField()
    actor = serializers.CharField(help_text="The member of staff who did it, if any.")
    note = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]  # a field, not Serializer.data


class AccessExplanationOutput(serializers.Serializer):
    reader = ExplainedReaderOutput()
    article = ExplainedArticleOutput(allow_null=True)
    title = ExplainedTitleOutput()
    at = serializers.DateTimeField()
    decision = DecisionOutput(help_text="membership.access.article_access's own answer.")
    summary = serializers.CharField()
    entitlements = EntitlementConsideredOutput(many=True)
    timeline = TimelineEntryOutput(many=True)


class AccessExplainApi(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        parameters=[AccessExplainInput],
        responses={200: AccessExplanationOutput, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        """Explain the paywall's decision for a reader on an article (staff only)."""
        query = AccessExplainInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        reader = User.objects.filter(email__iexact=data["reader"]).first()
        if reader is None:
            raise NotFound("There is no reader with this email address.")
        article = title = None
        if "article" in data:
            article = Article.objects.select_related("title").filter(pk=data["article"]).first()
            if article is None:
                raise NotFound("There is no article with this id.")
        else:
            title = Title.objects.filter(slug=data["title"]).first()
            if title is None:
                raise NotFound("There is no title with this slug.")
        explanation = access_explain(reader=reader, article=article, title=title)
        output = AccessExplanationOutput(explanation).data
        return mark_reader_specific(Response(output))
