"""Bad input at the stores' doors and the app's store endpoints: generated bodies, headers
and tokens never get a 5xx, and a refusal stores nothing and gives no access."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from appstores.models import StoreNotification, StoreSubscription
from membership.models import Entitlement
from tests.api.conftest import session_token_for
from tests.appstores import conftest as store_fixtures
from tests.factories import UserFactory
from tests.reliability.test_bad_input import CONTENT_TYPES, body_of, fuzz, texts

store_sandbox = store_fixtures.store_sandbox
_stores_at_the_sandbox = store_fixtures._stores_at_the_sandbox

pytestmark = pytest.mark.django_db

jws_like = st.builds(lambda a, b, c: f"{a}.{b}.{c}", texts, texts, texts)
bearer = st.one_of(st.none(), texts, st.builds("Bearer {}".format, st.one_of(texts, jws_like)))


def _nothing_stored() -> bool:
    return not (
        StoreNotification.objects.exists()
        or StoreSubscription.objects.exists()
        or Entitlement.objects.exists()
    )


@fuzz
@given(body=body_of({"signedPayload": st.one_of(texts, jws_like)}), content_type=CONTENT_TYPES)
def test_the_apple_door_refuses_junk_with_a_400_and_stores_nothing(client, body, content_type):  # type: ignore[no-untyped-def]
    response = client.generic(
        "POST", "/appstores/apple/notifications/", body, content_type=content_type
    )

    assert 400 <= response.status_code < 500, response.content[:300]
    assert _nothing_stored()


@fuzz
@given(
    body=body_of({"message": st.one_of(texts, st.dictionaries(texts, texts))}),
    content_type=CONTENT_TYPES,
    authorization=bearer,
)
def test_the_google_door_refuses_junk_with_a_400_and_stores_nothing(  # type: ignore[no-untyped-def]
    client, body, content_type, authorization
):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.generic(
        "POST", "/appstores/google/rtdn/", body, content_type=content_type, **headers
    )

    assert 400 <= response.status_code < 500, response.content[:300]
    assert _nothing_stored()


@fuzz
@given(
    apple=body_of({"signed_transaction": st.one_of(texts, jws_like)}),
    google=body_of({"purchase_token": texts, "product_id": texts}),
    content_type=CONTENT_TYPES,
)
def test_the_link_endpoints_never_fail_with_a_5xx_and_a_refusal_gives_nothing(  # type: ignore[no-untyped-def]
    apple: Any, google: Any, content_type: str
):
    app = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(UserFactory()))
    for path, body in (
        ("/api/v1/appstores/apple/transactions/", apple),
        ("/api/v1/appstores/google/purchases/", google),
    ):
        response = app.generic("POST", path, body, content_type=content_type)
        assert 400 <= response.status_code < 500, response.content[:300]
    assert not StoreSubscription.objects.exists() and not Entitlement.objects.exists()
