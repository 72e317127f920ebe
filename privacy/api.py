"""The reader's data API: ask for an export of it, see the latest, delete the account."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from core.api import error_responses, mark_reader_specific
from core.site import site_url
from privacy import selectors, services, tasks
from privacy.models import DataExport, ExportStatus


def _reader(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class DataExportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    requested_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, export: DataExport) -> str | None:
        """Where the signed-in reader downloads the zip, while it is ready."""
        if export.status != ExportStatus.READY:
            return None
        return site_url(reverse("privacy:export-download", kwargs={"pk": export.pk}))


class DataExportInput(serializers.Serializer):
    """No fields: the body is empty or a JSON object."""


class DataExportApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=DataExportInput,
        responses={202: DataExportOutput, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        """Ask for a copy of your data: a zip of JSON files, built in the background and
        emailed as a link when ready (valid 7 days). Once a day: 429 ``export_limit``."""
        DataExportInput(data=request.data).is_valid(raise_exception=True)
        export = services.data_export_request(user=_reader(request))
        tasks.after_commit(tasks.export_make, export.pk)
        body = DataExportOutput(export).data
        return mark_reader_specific(Response(body, status=status.HTTP_202_ACCEPTED))

    @extend_schema(responses={200: DataExportOutput, **error_responses(401, 404)})
    def get(self, request: Request) -> Response:
        """Show your latest data export and, when it is ready, where to download it."""
        export = selectors.data_export_latest(user=_reader(request))
        if export is None:
            raise NotFound("You have not asked for an export of your data yet.")
        return mark_reader_specific(Response(DataExportOutput(export).data))


class AccountDeleteThrottle(UserRateThrottle):
    scope = "account_delete"


class AccountDeleteInput(serializers.Serializer):
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=4096,
        help_text="Your password; may be left out within 5 minutes of signing in.",
    )


class AccountDeleteOutput(serializers.Serializer):
    status = serializers.CharField()
    message = serializers.CharField()
    notices = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the reader must do themselves, e.g. cancel an App Store subscription.",
    )


class AccountDeleteApi(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (AccountDeleteThrottle,)

    @extend_schema(
        request=AccountDeleteInput,
        responses={202: AccountDeleteOutput, **error_responses(400, 401, 403, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        """Delete your account: you are signed out everywhere at once; your Stripe
        subscription is cancelled and your personal data erased in the background. Needs
        your password (403 ``password_incorrect``), or a sign-in in the last 5 minutes."""
        data = AccountDeleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        reader = _reader(request)
        services.erasure_password_check(user=reader, password=data.validated_data.get("password"))
        notices = selectors.erasure_notices(user=reader)
        erasure = services.erasure_request(user=reader)
        tasks.after_commit(tasks.erasure_perform, erasure.pk)
        answer = {
            "status": "erasing",
            "message": "Your account is being deleted. You have been signed out.",
            "notices": notices,
        }
        body = AccountDeleteOutput(answer).data
        return mark_reader_specific(Response(body, status=status.HTTP_202_ACCEPTED))
