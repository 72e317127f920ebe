"""The publishers' API: reading reports from the article page and the app, and statements."""

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.api import error_responses
from membership.devices import request_device_id
from membership.selectors import article_get
from publishers.models import Statement
from publishers.reads import read_record
from publishers.selectors import (
    publisher_viewer,
    statement_amounts,
    statement_csv,
    statement_get,
    statement_list,
)


class ReadReportThrottle(UserRateThrottle):
    scope = "read_report"


class ReadReportInput(serializers.Serializer):
    seconds = serializers.IntegerField(
        min_value=0,
        max_value=86400,
        help_text="Engaged seconds since the last report (more than the per-report cap counts "
        "as the cap).",
    )
    progress = serializers.FloatField(
        min_value=0, max_value=1, help_text="How far through the article, 0 to 1."
    )
    gift = serializers.CharField(
        required=False,
        max_length=200,
        help_text="The gift link's token, when the body was opened with one.",
    )


class ReadReportOutput(serializers.Serializer):
    counted = serializers.BooleanField(help_text="False for an article open to everyone.")
    seconds = serializers.IntegerField(help_text="Today's engaged seconds on this article.")
    qualified = serializers.BooleanField()
    source = serializers.CharField(help_text="Where the access came from: trial, subscription…")  # type: ignore[assignment]  # a field


class ReadReportApi(APIView):
    """Engaged reading of an article, sent repeatedly while the body is on screen.

    The article page sends it with ``navigator.sendBeacon`` as a form post carrying
    ``csrfmiddlewaretoken`` (a beacon cannot set headers); the app sends JSON with its
    ``X-Session-Token``.
    """

    permission_classes = (IsAuthenticated,)
    throttle_classes = (ReadReportThrottle,)
    parser_classes = (JSONParser, FormParser)

    @extend_schema(
        request=ReadReportInput,
        responses={200: ReadReportOutput, **error_responses(400, 401, 403, 404, 429)},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Record engaged seconds and progress on an article whose body the reader may read
        (403 ``read_not_granted`` otherwise). One ledger row per reader, article and day."""
        data = ReadReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        article = article_get(article_id=pk)
        report = read_record(
            reader=request.user,
            article=article,
            seconds=data.validated_data["seconds"],
            progress=data.validated_data["progress"],
            device_id=request_device_id(request),
            gift_token=data.validated_data.get("gift"),
        )
        return Response(ReadReportOutput(report).data, status=status.HTTP_200_OK)


class StatementLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    currency = serializers.CharField()
    qualifying_reads = serializers.IntegerField()
    engaged_seconds = serializers.IntegerField()
    readers = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Minor units (pence, cents).")
    note = serializers.CharField()


class StatementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.SlugField(source="title.slug")
    title_name = serializers.CharField(source="title.name")
    month = serializers.DateField(format="%Y-%m")
    qualifying_reads = serializers.IntegerField()
    engaged_seconds = serializers.IntegerField()
    readers = serializers.IntegerField()
    amounts = serializers.SerializerMethodField(help_text="Owed per currency, minor units.")
    closed_at = serializers.DateTimeField()
    lines = StatementLineOutput(many=True, source="lines.all")
    csv_url = serializers.SerializerMethodField()

    def get_amounts(self, statement: Statement) -> dict[str, int]:
        return statement_amounts(statement=statement)

    def get_csv_url(self, statement: Statement) -> str:
        return reverse("publishers:statement-csv", kwargs={"pk": statement.pk})


class IsPublisherStaff(IsAuthenticated):
    """Staff attached to at least one title, or a superuser."""

    message = "Only a publisher's staff see statements."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and publisher_viewer(user=request.user)


class StatementFilter(serializers.Serializer):
    title = serializers.SlugField(required=False, help_text="Only this title's statements.")
    month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", required=False, help_text="YYYY-MM")


@extend_schema(
    parameters=[StatementFilter],
    responses={200: StatementOutput(many=True), **error_responses(400, 401, 403)},
)
class StatementListApi(generics.ListAPIView):
    """The closed monthly statements of the titles the signed-in publisher staff member
    works for (every title for a superuser)."""

    permission_classes = (IsPublisherStaff,)
    serializer_class = StatementOutput

    def get_queryset(self) -> Any:
        filters = StatementFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return statement_list(viewer=self.request.user, **filters.validated_data)


class StatementDetailApi(APIView):
    permission_classes = (IsPublisherStaff,)

    @extend_schema(responses={200: StatementOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        """One statement with its lines (404 when it is not one of the viewer's titles)."""
        return Response(StatementOutput(statement_get(viewer=request.user, statement_id=pk)).data)


class StatementCsvApi(APIView):
    permission_classes = (IsPublisherStaff,)

    @extend_schema(
        responses={(200, "text/csv"): str, **error_responses(401, 403, 404)},
        parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH)],
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        """The statement as CSV: its lines, then each line's ledger rows by title and day."""
        statement: Statement = statement_get(viewer=request.user, statement_id=pk)
        response = HttpResponse(statement_csv(statement=statement), content_type="text/csv")
        name = f"statement-{statement.title.slug}-{statement.month:%Y-%m}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
