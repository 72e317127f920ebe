"""Bad input, part two: Stripe's webhook door and the inputs readers type.

Webhooks: a forged, malformed or stale request is a 400 and stores nothing; a replay within
the 300 s tolerance is a 200 and is applied once, even when the copies arrive together.
Sign-up (allauth headless), trial start and Checkout, fed by Hypothesis with unicode, huge,
empty, wrongly typed and nested junk: never a 5xx, always the JSON error shape, and nothing
half-written (the rows they write are counted before and after every refusal).
"""

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from accounts.models import User
from billing import events
from billing.models import Customer, Subscription, WebhookEvent
from membership.models import Entitlement, Trial
from tests.billing import conftest as billing_fixtures
from tests.billing.conftest import WEBHOOK_URL, event_payload, stripe_signature
from tests.billing.paying import plan_on_sale, subscribe
from tests.factories import UserFactory
from tests.reliability.readers import session_token

_shared_sandbox = billing_fixtures._shared_sandbox
sandbox_api = billing_fixtures.sandbox_api

pytestmark = pytest.mark.django_db

SIGNUP = "/_allauth/app/v1/auth/signup"
TRIAL = "/api/v1/me/trial/"
CHECKOUT = "/api/v1/billing/checkout/"
TOLERANCE = 300
# A signed body that is not an event, or one too large to read at all.
REFUSALS = ("malformed_event", "bad_signature", "malformed_request")

fuzz = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# Junk of every JSON type, nested; strings with unicode, NULs, and some very long.
LENGTHS = st.sampled_from([0, 1, 254, 255, 256, 5_000, 3_000_000])
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\u0131", "ß" * 3, "\u202e", "😀", "\ud7ff"]),
    LENGTHS.map(lambda n: "a" * n),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
DEEP = b"[" * 100_000 + b"]" * 100_000  # beyond the JSON decoder's recursion limit
raw_bodies = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"", b"{", b"null", b"[]", b'"x"', b"\xff\xfe", DEEP, b'{"a":' + DEEP + b"}"]),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json",  # half the bodies are sent as JSON, so more get past the parser
        "application/json",
        "application/json",
        "application/json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "",
    ]
)


def _encoded(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def body_of(fields: dict[str, Any]) -> Any:
    """Objects with the endpoint's fields (valid or junk) and junk extras; other JSON; bytes."""
    shaped = st.fixed_dictionaries(
        {}, optional={name: st.one_of(valid, junk) for name, valid in fields.items()}
    )
    with_extras = st.tuples(shaped, st.dictionaries(texts, junk, max_size=2)).map(
        lambda pair: {**pair[1], **pair[0]}
    )
    return st.one_of(with_extras, junk, raw_bodies).map(_encoded)


def _counts(*models: Any) -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in models}


def _api_error(response: Any) -> None:
    """Masthead's API error shape: ``{"error": {"code", "message", "fields"?}}``."""
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "fields"}


def _headless_error(response: Any) -> None:
    """allauth headless's error shape: ``{"status", "errors": [{"message", "code", ...}]}``."""
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    data = response.json()
    assert data["status"] == response.status_code
    if response.status_code != 429:  # allauth's rate-limit answer carries no error list
        assert data["errors"] and all(e["message"] and e["code"] for e in data["errors"])


# Webhooks ------------------------------------------------------------------------------


def _post_webhook(client: Client, body: bytes, signature: str | None) -> Any:
    headers = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    return client.generic("POST", WEBHOOK_URL, body, content_type="application/json", **headers)


def _signed(body: bytes, secret: str, at: int) -> str:
    return stripe_signature(body, secret=secret, at=at)


def forged_signatures(body: bytes, secret: str) -> Any:
    now = int(time.time())
    hexes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
    other_keys = st.text(min_size=1).filter(lambda key: key != secret)
    return st.one_of(
        st.none(),
        st.text(max_size=120),  # anything, unicode included
        st.builds(lambda t, v: f"t={t},v1={v}", st.integers(), hexes),  # the shape, no key
        st.builds(lambda key: _signed(body, key, now), other_keys),  # another key
        st.builds(lambda other: _signed(other, secret, now), st.binary(max_size=40)),  # body
        st.just(_signed(body, secret, now).replace("v1=", "v0=")),  # another scheme
        st.builds(lambda v: f"t={now},v1={v}", st.text(max_size=64)),  # unicode in the HMAC
    )


@fuzz
@given(data=st.data())
def test_forged_webhooks_are_refused_and_nothing_is_stored(client, settings, data):  # type: ignore[no-untyped-def]
    body = json.dumps(event_payload("evt_forged", "invoice.paid", {"id": "in_1"})).encode()
    signature = data.draw(forged_signatures(body, settings.STRIPE_WEBHOOK_SECRET))

    response = _post_webhook(client, body, signature)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()


@fuzz
@given(age=st.integers(min_value=TOLERANCE + 1, max_value=10**9))
def test_stale_webhooks_beyond_the_tolerance_are_refused_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    client, settings, age
):
    body = json.dumps(event_payload("evt_stale", "invoice.paid", {"id": "in_1"})).encode()
    signature = _signed(body, settings.STRIPE_WEBHOOK_SECRET, int(time.time()) - age)

    response = _post_webhook(client, body, signature)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()


def event_like() -> Any:
    """Signed bodies of every sort: junk, and events whose fields are junk or too long."""
    field = st.one_of(junk, texts)
    shaped = st.fixed_dictionaries(
        {"id": field},
        optional={"type": field, "api_version": field, "data": junk, "livemode": junk},
    )
    return st.one_of(shaped, junk, raw_bodies).map(_encoded)


@fuzz
@given(body=event_like())
def test_signed_bodies_are_stored_once_as_events_or_refused_with_nothing_stored(  # type: ignore[no-untyped-def]
    client, settings, body
):
    before = WebhookEvent.objects.count()

    signature = _signed(body, settings.STRIPE_WEBHOOK_SECRET, int(time.time()))
    response = _post_webhook(client, body, signature)
    note_event(f"status {response.status_code}")  # --hypothesis-show-statistics

    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert response.json()["error"]["code"] in REFUSALS
        assert WebhookEvent.objects.count() == before
    else:
        event = json.loads(body)
        stored = WebhookEvent.objects.get(stripe_id=event["id"])
        assert stored.payload == event
        assert WebhookEvent.objects.count() == before + (not response.json()["duplicate"])


@pytest.mark.django_db(transaction=True)
def test_a_replay_within_the_tolerance_is_accepted_and_applied_once(  # type: ignore[no-untyped-def]
    live_server, sandbox_api, settings, monkeypatch
):
    """Eight copies of one signed delivery, 250 s old, sent at once: one row, one apply."""
    reader = UserFactory()
    subscription = subscribe(sandbox_api.client(), reader, plan_on_sale())
    applied: list[str] = []
    handler = events.EVENT_HANDLERS["customer.subscription.updated"]

    def counting(event: WebhookEvent) -> None:
        applied.append(event.stripe_id)
        handler(event)

    monkeypatch.setitem(events.EVENT_HANDLERS, "customer.subscription.updated", counting)
    updated = {"id": subscription.stripe_id}
    event = event_payload("evt_replay", "customer.subscription.updated", updated)
    body = json.dumps(event).encode()
    signature = _signed(body, settings.STRIPE_WEBHOOK_SECRET, int(time.time()) - 250)

    def deliver(_: int) -> requests.Response:
        headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
        url = f"{live_server.url}{WEBHOOK_URL}"
        return requests.post(url, data=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(deliver, range(8)))

    assert [a.status_code for a in answers] == [200] * 8
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 7
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_id, stored.status, stored.attempts) == ("evt_replay", "succeeded", 1)
    assert applied == ["evt_replay"]
    assert Subscription.objects.get().stripe_id == subscription.stripe_id


# What readers type ---------------------------------------------------------------------

passwords = st.one_of(st.text(max_size=30), st.just("Correct-Horse-Battery-77"))
emails = st.one_of(st.emails(), texts, st.builds("{}@example.com".format, texts))


def _post(client: Client, path: str, body: bytes, content_type: str, **headers: str) -> Any:
    cache.clear()  # rate limits would refuse the inputs before they are looked at
    return client.generic("POST", path, body, content_type=content_type, **headers)


@fuzz
@given(body=body_of({"email": emails, "password": passwords}), content_type=CONTENT_TYPES)
def test_sign_up_never_fails_with_a_5xx_and_a_refusal_writes_nothing(  # type: ignore[no-untyped-def]
    client, body, content_type
):
    before = _counts(User, Trial, Entitlement)

    response = _post(client, SIGNUP, body, content_type)
    note_event(f"status {response.status_code}")  # --hypothesis-show-statistics

    assert response.status_code < 500, response.content[:300]
    after = _counts(User, Trial, Entitlement)
    if response.status_code == 401:  # accepted: waits for the emailed link, a new or a taken
        flows = response.json()["data"]["flows"]  # address alike (enumeration prevention)
        assert {"id": "verify_email", "is_pending": True} in flows
        assert after["User"] - before["User"] in (0, 1)
        assert after == {**before, "User": after["User"]}
    else:
        _headless_error(response)
        assert after == before
    client.cookies.clear()


def _reader_headers() -> dict[str, str]:
    return {"HTTP_X_SESSION_TOKEN": session_token(UserFactory(password=None))}


@fuzz
@given(body=body_of({}), content_type=CONTENT_TYPES)
def test_trial_start_never_fails_with_a_5xx_and_a_refusal_writes_nothing(  # type: ignore[no-untyped-def]
    client, body, content_type
):
    headers = _reader_headers()
    before = _counts(Trial, Entitlement)

    response = _post(client, TRIAL, body, content_type, **headers)
    note_event(f"status {response.status_code}")  # --hypothesis-show-statistics

    assert response.status_code < 500, response.content[:300]
    after = _counts(Trial, Entitlement)
    if response.status_code == 201:
        assert after == {"Trial": before["Trial"] + 1, "Entitlement": before["Entitlement"] + 1}
    else:
        _api_error(response)
        assert after == before


@fuzz
@given(
    body=body_of(
        {
            "plan": st.sampled_from(["everything", "essentials", "Everything", "everything "]),
            "interval": st.sampled_from(["month", "year", "Month", "week"]),
        }
    ),
    content_type=CONTENT_TYPES,
)
@example(body=b'{"plan": "everything", "interval": "month"}', content_type="application/json")
@example(body=b'{"plan": "essentials", "interval": "year"}', content_type="application/json")
def test_checkout_never_fails_with_a_5xx_and_a_refusal_writes_nothing(  # type: ignore[no-untyped-def]
    client, on_sale, body, content_type
):
    headers = _reader_headers()
    before = _counts(Customer, Subscription, Trial, Entitlement)

    response = _post(client, CHECKOUT, body, content_type, **headers)
    note_event(f"status {response.status_code}")  # --hypothesis-show-statistics

    assert response.status_code < 500, response.content[:300]
    after = _counts(Customer, Subscription, Trial, Entitlement)
    if response.status_code == 201:
        assert response.json()["url"].startswith(on_sale.url)
        assert after == {**before, "Customer": before["Customer"] + 1}
    else:
        _api_error(response)
        assert after == before


@pytest.fixture
def on_sale(sandbox_api):  # type: ignore[no-untyped-def]
    """Two plans on sale at the sandbox, for Checkout to reach."""
    plan_on_sale(slug="everything", name="Everything")
    plan_on_sale(slug="essentials", name="Essentials")
    return sandbox_api


@pytest.mark.parametrize(
    ("path", "shape"),
    [(SIGNUP, _headless_error), (TRIAL, _api_error), (CHECKOUT, _api_error)],
    ids=["sign-up", "trial", "checkout"],
)
def test_a_body_over_the_upload_limit_from_a_browser_is_a_json_refusal(  # type: ignore[no-untyped-def]
    path: str, shape: Callable[[Any], None]
):
    """A form body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with a session cookie: refused (by
    Django before allauth's view, by DRF's media type), and the refusal is JSON."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(password=None))
    client.cookies["csrftoken"] = "a" * 32  # so the CSRF check goes on to read the form
    before = _counts(User, Trial, Entitlement, Customer)

    response = client.post(
        path, b"a=" + b"x" * 3_000_000, content_type="application/x-www-form-urlencoded"
    )

    assert 400 <= response.status_code < 500
    shape(response)
    assert _counts(User, Trial, Entitlement, Customer) == before
