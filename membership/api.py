"""The reader API: the catalogue, articles behind the paywall, plans, the reader's membership."""

from collections.abc import Callable
from typing import Any

from django.core.validators import slug_re
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.fields import SkipField
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from core.api import error_responses
from membership.access import AccessDecision, reader_coverage
from membership.devices import DEVICE_HEADER, request_device_id, request_is_crawler
from membership.meter import MeterState
from membership.models import Article, Entitlement, Title
from membership.reading import (
    GIFT_PARAMETER,
    ReadDecision,
    article_read,
    gift_referrer_hide,
    read_article_get,
)
from membership.selectors import (
    TrialEligibility,
    article_list,
    entitlement_list_live,
    paywall_get,
    plan_list,
    title_get,
    title_list,
    trial_state_get,
    trial_summary,
)
from membership.services import trial_start
from membership.services.app_accounts import app_account_token_get

Decide = Callable[[Article], AccessDecision | ReadDecision]


class TitleOutput(serializers.ModelSerializer):
    class Meta:
        model = Title
        fields = ("slug", "name", "publisher", "description", "is_premium")


class TitleRefOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class AccessOutput(serializers.Serializer):
    granted = serializers.BooleanField()
    reason = serializers.CharField()

    def get_attribute(self, article: Article) -> AccessDecision | ReadDecision:
        decide: Decide = self.context["decide"]
        return decide(article)


class ArticleOutput(serializers.Serializer):
    """An article's teaser: everything but the body, with the reader's access to it."""

    id = serializers.IntegerField()
    title = TitleRefOutput()
    headline = serializers.CharField()
    standfirst = serializers.CharField()
    lead = serializers.CharField()
    author = serializers.CharField()
    section = serializers.CharField()
    published_at = serializers.DateTimeField()
    access = AccessOutput(source="*")


class BodyOutput(serializers.CharField):
    """The full text, present only when the reader's access is granted."""

    def get_attribute(self, article: Article) -> str:
        if not self.context["decide"](article).granted:
            raise SkipField()
        return article.body


class PaywallActionOutput(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    method = serializers.CharField(required=False)
    url = serializers.CharField()
    params = serializers.DictField(
        child=serializers.CharField(), help_text="Send these as the request's JSON body."
    )


class PaywallOutput(serializers.Serializer):
    """What a denied reader is told and may do, present only when access is denied."""

    reason = serializers.CharField()
    message = serializers.CharField()
    actions = PaywallActionOutput(many=True)
    plans = TitleRefOutput(
        many=True, help_text="upgrade: the plans on sale that cover this title (slug, name)."
    )
    credits = serializers.IntegerField(
        help_text="The reader's credits, when they may unlock the article with one (0 else)."
    )

    def get_attribute(self, article: Article) -> Any:
        decision = self.context["decide"](article)
        if decision.granted:
            raise SkipField()
        reader = self.context.get("reader")
        return paywall_get(
            reason=decision.reason, reader=reader, article=article, credits=decision.credits
        )


class MeterOutput(serializers.Serializer):
    """The reader's free articles this month, present when the meter applies to them."""

    used = serializers.IntegerField(help_text="Premium articles read free this month.")
    limit = serializers.IntegerField(help_text="Free premium articles a month.")
    remaining = serializers.IntegerField()
    resets_at = serializers.DateTimeField(help_text="When the next month's allowance starts.")


@extend_schema_field(MeterOutput)
class MeterField(serializers.Field):
    """``MeterOutput``, written out: as a nested serializer it copied its four fields on
    every metered read, a tenth of what the meter costs a read (``bench/metered_read.py``)."""

    resets_at = serializers.DateTimeField()

    def get_attribute(self, article: Article) -> Any:
        meter = getattr(self.context["decide"](article), "meter", None)
        if meter is None:
            raise SkipField()
        return meter

    def to_representation(self, meter: MeterState) -> dict[str, Any]:
        return {
            "used": meter.used,
            "limit": meter.limit,
            "remaining": meter.remaining,
            "resets_at": self.resets_at.to_representation(meter.resets_at),
        }


class GiftLinkOpenedOutput(serializers.Serializer):
    """What the gift token sent (``?gift=``) did, present when one was sent: ``live`` when it
    opened the article (``access.reason`` is ``gift_link``), otherwise why it opened nothing
    (``expired``, ``exhausted``, ``revoked``, ``other_article``, ``invalid``)."""

    state = serializers.CharField()
    message = serializers.CharField(help_text="One line for the reader.")

    def get_attribute(self, article: Article) -> Any:
        gift = getattr(self.context["decide"](article), "gift", None)
        if gift is None:
            raise SkipField()
        return gift


class ArticleDetailOutput(ArticleOutput):
    """An article with its body when access is granted, or its paywall when denied."""

    body = BodyOutput(source="*", required=False)
    paywall = PaywallOutput(source="*", required=False)
    meter = MeterField(source="*", required=False)
    gift_link = GiftLinkOpenedOutput(source="*", required=False)


@extend_schema(responses={200: TitleOutput(many=True), **error_responses(404)})
class TitleListApi(generics.ListAPIView):
    """List the titles in the catalogue (a page past the last is a 404)."""

    serializer_class = TitleOutput

    def get_queryset(self) -> Any:
        return title_list()


class TitleDetailApi(APIView):
    @extend_schema(responses={200: TitleOutput, **error_responses(404)})
    def get(self, request: Request, slug: str) -> Response:
        """Show one title."""
        return Response(TitleOutput(title_get(slug=slug)).data)


class TitleSlugField(serializers.SlugRelatedField[Title]):
    """A title by its slug; a value that cannot be a slug is refused before any query
    (PostgreSQL cannot even compare a string holding a NUL character)."""

    def to_internal_value(self, data: Any) -> Title:
        if not isinstance(data, str) or not slug_re.match(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:100])
        return super().to_internal_value(data)


class ArticleFilter(serializers.Serializer):
    title = TitleSlugField(
        slug_field="slug",
        queryset=Title.objects.all(),
        required=False,
        help_text="Only this title's articles (its slug). An unknown slug is a 400.",
    )


@extend_schema(
    parameters=[ArticleFilter],
    responses={200: ArticleOutput(many=True), **error_responses(400, 404)},
)
class ArticleListApi(generics.ListAPIView):
    """List article teasers, newest first, each with the reader's access; never a body."""

    serializer_class = ArticleOutput

    def get_queryset(self) -> Any:
        filters = ArticleFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return article_list(title=filters.validated_data.get("title"))

    def get_serializer_context(self) -> dict[str, Any]:
        coverage = reader_coverage(reader=self.request.user)
        return {**super().get_serializer_context(), "decide": coverage.decide}


class ArticleDetailApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                DEVICE_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                description="The app's device token (POST /devices/): counts free articles "
                "for a reader who is not signed in. A tampered token is a new device; the "
                "answer then carries its new token in the same header.",
            ),
            OpenApiParameter(
                GIFT_PARAMETER,
                required=False,
                description="A gift link's token: opens the whole article while the link "
                "is live (it lasts a while and opens on a few devices). Never logged.",
            ),
        ],
        responses={200: ArticleDetailOutput, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        """Read an article: the body when access is granted (by an entitlement, a gift
        link or the monthly meter), otherwise the paywall."""
        gift_token = request.query_params.get(GIFT_PARAMETER)
        device_id, record = request_device_id(request), request.method == "GET"  # HEAD: no body
        crawler = request_is_crawler(request)
        article = read_article_get(
            article_id=pk,
            reader=request.user,
            device_id=device_id,
            record=record,
            crawler=crawler,
            gift_token=gift_token,
        )
        decision = article_read(
            reader=request.user,
            article=article,
            device_id=device_id,
            record=record,
            crawler=crawler,
            gift_token=gift_token,
        )
        reader = request.user if isinstance(request.user, User) else None
        context = {"decide": lambda _: decision, "reader": reader}
        response = Response(ArticleDetailOutput(article, context=context).data)
        return gift_referrer_hide(response) if gift_token else response


class PlanOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    monthly_amount = serializers.IntegerField(help_text="Minor units (pence, cents).")
    yearly_amount = serializers.IntegerField(help_text="Minor units (pence, cents).")
    currency = serializers.CharField()
    trial_days = serializers.IntegerField()
    all_titles = serializers.BooleanField(help_text="Covers every premium title.")
    titles = TitleRefOutput(many=True, help_text="The titles covered, when not all of them.")


class PlanListApi(APIView):
    @extend_schema(responses={200: PlanOutput(many=True)})
    def get(self, request: Request) -> Response:
        """List the plans on sale with their prices and the titles they cover."""
        return Response(PlanOutput(plan_list(), many=True).data)


class TrialOutput(serializers.Serializer):
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    days_left = serializers.IntegerField()


class EntitlementOutput(serializers.ModelSerializer):
    titles = serializers.SlugRelatedField[Title](
        slug_field="slug", many=True, read_only=True, help_text="Empty when all_titles."
    )

    class Meta:
        model = Entitlement
        fields = ("source", "all_titles", "titles", "article", "ends_at")
        extra_kwargs = {"article": {"help_text": "The one article it opens (a credit's unlock)."}}


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    trial = TrialOutput(allow_null=True, help_text="This account's trial; null if it had none.")
    trial_eligibility = serializers.ChoiceField(
        choices=TrialEligibility.choices,
        help_text="available: POST /me/trial/ starts it; verify_email: confirm the address "
        "first; used: this account or an earlier one with the same address had it.",
    )
    entitlements = EntitlementOutput(many=True, help_text="Live now.")
    app_account_token = serializers.UUIDField(
        help_text="The reader's stable id for the app stores: the app sets it on a purchase "
        "(Apple's appAccountToken, Google Play's obfuscated account id)."
    )


def _reader(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class MeApi(APIView):
    """Membership's part of ``/me/``: the reader, their trial and entitlements. Not routed
    here: ``billing.api.MeApi`` extends it with the subscription and owns ``/me/``."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: MeOutput, **error_responses(401)})
    def get(self, request: Request) -> Response:
        """Show the signed-in reader, their trial and their live entitlements."""
        reader = _reader(request)
        trial = trial_state_get(user=reader)
        me = {
            "id": reader.pk,
            "email": reader.email,
            "trial": trial.trial,
            "trial_eligibility": trial.eligibility,
            "entitlements": entitlement_list_live(user=reader),
            "app_account_token": app_account_token_get(user=reader),
        }
        return Response(MeOutput(me).data)


class TrialStartThrottle(UserRateThrottle):
    scope = "trial_start"


class TrialStartInput(serializers.Serializer):
    """No fields: the body is empty or a JSON object."""


class TrialStartApi(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (UserRateThrottle, TrialStartThrottle)

    @extend_schema(
        request=TrialStartInput,
        responses={201: TrialOutput, **error_responses(400, 401, 403, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        """Start the reader's one free trial: every premium title, no card. 403
        ``email_unverified`` until the address is verified, 409 ``trial_already_used``."""
        TrialStartInput(data=request.data).is_valid(raise_exception=True)
        trial = trial_start(user=_reader(request))
        return Response(TrialOutput(trial_summary(trial=trial)).data, status.HTTP_201_CREATED)
