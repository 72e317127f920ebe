"""The app's device token: how a reader who is not signed in is known to the meter."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.api import error_responses
from membership.devices import device_id_new, device_token_make


class DeviceCreateThrottle(AnonRateThrottle):
    """New devices per client address: each one is a fresh meter."""

    scope = "device_create"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class DeviceCreateInput(serializers.Serializer):
    """No fields: the body is empty or a JSON object."""


class DeviceOutput(serializers.Serializer):
    device_token = serializers.CharField(
        help_text="Send it as the X-Device-Token header on every request of this device."
    )


class DeviceCreateApi(APIView):
    authentication_classes = ()  # a device token is not a session: no CSRF, no sign-in
    permission_classes = ()
    throttle_classes = (DeviceCreateThrottle,)

    @extend_schema(
        request=DeviceCreateInput,
        responses={201: DeviceOutput, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        """Register a new device of the app and return its signed device token. Free
        premium articles are counted per device until the reader signs in."""
        DeviceCreateInput(data=request.data).is_valid(raise_exception=True)
        token = device_token_make(device_id=device_id_new())
        return Response({"device_token": token}, status=status.HTTP_201_CREATED)
