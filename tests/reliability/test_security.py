"""Security: sign-in throttling, CSRF on every form and cookie-authenticated POST, one
reader's membership and billing out of another's reach, the admin for staff only, and a
production configuration that ``manage.py check --deploy`` finds nothing to say about.
"""

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver

from accounts.models import User
from billing.models import Customer, Subscription
from membership.models import Entitlement, Trial
from tests.billing import conftest as billing_fixtures
from tests.billing.paying import checkout_pay, path_of, subscribe
from tests.factories import PASSWORD, StaffFactory, UserFactory
from tests.reliability.readers import catalogue_make, plans_on_sale, session_token

_shared_sandbox = billing_fixtures._shared_sandbox
sandbox_api = billing_fixtures.sandbox_api

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HEADLESS_LOGIN = "/_allauth/app/v1/auth/login"
WEB_LOGIN = "/accounts/login/"
ME = "/api/v1/me/"
TRIAL = "/api/v1/me/trial/"
CHECKOUT = "/api/v1/billing/checkout/"
PORTAL = "/api/v1/billing/portal/"
WELCOME = "/billing/welcome/"
MANAGE = "/billing/manage/"
WEB_POSTS = ("/trial/", "/billing/subscribe/", MANAGE)


# Sign-in throttling ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_hashes(settings):  # type: ignore[no-untyped-def]
    """argon2 costs most of a second a check on a loaded machine; the limits do not care."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_headless_sign_in_is_refused_after_five_failures_even_with_the_password_and_another_ip(
    client,
):  # type: ignore[no-untyped-def]
    reader = UserFactory()
    wrong = {"email": reader.email, "password": "not-the-password"}

    failures = [
        client.post(HEADLESS_LOGIN, wrong, content_type="application/json").status_code
        for _ in range(5)
    ]
    right = {**wrong, "password": PASSWORD}
    answers = [
        client.post(HEADLESS_LOGIN, right, content_type="application/json", REMOTE_ADDR=ip)
        for ip in ("127.0.0.1", "203.0.113.9")  # the limit is on the account, not only the IP
    ]

    assert failures == [400] * 5
    for answer in answers:
        assert answer.status_code in (400, 429)
        assert answer.json()["errors"][0]["code"] == "too_many_login_attempts"
        assert "session_token" not in answer.json().get("meta", {})


def test_web_sign_in_is_refused_after_five_failures_even_with_the_password(client):  # type: ignore[no-untyped-def]
    reader = UserFactory()
    wrong = {"login": reader.email, "password": "not-the-password"}

    failures = [client.post(WEB_LOGIN, wrong) for _ in range(5)]
    answer = client.post(WEB_LOGIN, {**wrong, "password": PASSWORD})

    assert all(f.status_code == 200 and "_auth_user_id" not in client.session for f in failures)
    assert answer.status_code in (200, 429)
    assert "Too many failed sign-in attempts" in answer.content.decode()
    assert "try again in 5 minutes" in answer.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(ME).status_code == 401


# CSRF ------------------------------------------------------------------------------------


@dataclass
class Form:
    page: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)


FIELDS = ("input", "select", "textarea", "button")


class _Forms(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("method", "get").lower() == "post":
            action = urlsplit(values.get("action") or self.page)
            self._open = Form(self.page, action.path + (f"?{action.query}" if action.query else ""))
            self.forms.append(self._open)
        elif tag in FIELDS and self._open is not None and self._named_value(values):
            self._open.fields[values["name"]] = values.get("value", "")

    @staticmethod
    def _named_value(values: dict[str, str]) -> bool:
        return bool(values.get("name")) and values.get("type") != "submit"

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def post_forms(client: Client, pages: list[str]) -> list[Form]:
    """The POST forms of the pages, as the signed-in (or anonymous) reader is shown them."""
    forms: list[Form] = []
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        parser = _Forms(page)
        parser.feed(response.content.decode())
        forms += parser.forms
    return forms


PAGES = {
    # /admin/login/ sends visitors to WEB_LOGIN (staff sign in through allauth, rate limited).
    "anonymous": [
        "/",
        "/pricing/",
        "{article}",
        WEB_LOGIN,
        "/accounts/signup/",
        "/accounts/password/reset/",
    ],
    "never_trialled": [
        "/",
        "/pricing/",
        "{article}",
        "/account/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/logout/",
    ],
    "subscriber": ["/account/", "{article}"],
}
# Forms each state must show, so the crawl cannot pass by finding none.
EXPECTED = {
    "anonymous": {"/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"},
    "never_trialled": {
        "/trial/",
        "/billing/subscribe/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/logout/",
    },
    "subscriber": {MANAGE},
}


@pytest.mark.parametrize("state", list(PAGES))
def test_every_form_carries_a_csrf_token_and_is_refused_without_it(state, sandbox_api):  # type: ignore[no-untyped-def]
    catalogue = catalogue_make(sizes=(1,))
    plans_on_sale(catalogue)
    client = Client(enforce_csrf_checks=True)
    if state != "anonymous":
        reader = UserFactory()
        if state == "subscriber":
            subscribe(sandbox_api.client(), reader, catalogue.plans[0])
        client.force_login(reader)
    article = catalogue.premium[0].get_absolute_url()
    pages = [page.format(article=article) for page in PAGES[state]]

    forms = post_forms(client, pages)
    if state == "anonymous":  # shown links to sign up instead; the endpoints are still there
        token = client.cookies["csrftoken"].value
        forms += [Form("-", path, {"csrfmiddlewaretoken": token}) for path in WEB_POSTS]

    assert EXPECTED[state] <= {urlsplit(form.action).path for form in forms}
    for form in forms:
        assert form.fields.get("csrfmiddlewaretoken"), (form.page, form.action)
    # Logging out goes last: the other forms need the session.
    forms.sort(key=lambda form: form.action.startswith("/accounts/logout/"))
    for form in forms:
        without = {k: v for k, v in form.fields.items() if k != "csrfmiddlewaretoken"}
        refused = client.post(form.action, without)
        assert refused.status_code == 403, (form.page, form.action)
        accepted = client.post(form.action, form.fields)
        assert accepted.status_code != 403, (form.page, form.action)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (TRIAL, {}),
        (CHECKOUT, {"plan": "everything", "interval": "month"}),
        (PORTAL, {}),
    ],
    ids=["trial", "checkout", "portal"],
)
def test_an_api_post_with_the_session_cookie_and_no_csrf_token_is_refused_as_json(  # type: ignore[no-untyped-def]
    path, body, sandbox_api
):
    plans_on_sale(catalogue_make(sizes=(1,)))
    reader = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    client.get("/")  # the page sets the CSRF cookie, as a browser's first visit does
    token = client.cookies["csrftoken"].value
    before = (Trial.objects.count(), Entitlement.objects.count(), Customer.objects.count())

    refused = client.post(path, body, content_type="application/json")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in refused.json()["error"]["message"]
    assert (Trial.objects.count(), Entitlement.objects.count(), Customer.objects.count()) == before
    accepted = client.post(path, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code in (201, 409)


@pytest.mark.parametrize(
    "path",
    [
        "/_allauth/browser/v1/auth/login",
        "/_allauth/browser/v1/auth/signup",
        "/_allauth/browser/v1/account/password/change",
        "/_allauth/browser/v1/account/email",
    ],
)
def test_the_browser_sign_in_api_refuses_a_post_without_its_csrf_token_as_json(path):  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    body = {"email": "someone@example.com", "password": PASSWORD}

    refused = client.post(path, body, content_type="application/json")

    assert refused.status_code == 403
    assert refused.json()["status"] == 403
    assert User.objects.count() == 1


# One reader, another reader's membership and billing -----------------------------------


@pytest.fixture
def two_readers(sandbox_api):  # type: ignore[no-untyped-def]
    """Reader A never paid; reader B subscribes and has a comp grant."""
    catalogue = catalogue_make(sizes=(2,))
    plans_on_sale(catalogue)
    a, b = UserFactory(), UserFactory()
    subscribe(sandbox_api.client(), b, catalogue.plans[0])
    return a, b, catalogue


def _token_client(user: User) -> Client:
    return Client(HTTP_X_SESSION_TOKEN=session_token(user))


@pytest.mark.usefixtures("meter_off")  # the entitlement paywall alone
def test_me_shows_only_the_signed_in_reader(two_readers):  # type: ignore[no-untyped-def]
    a, b, catalogue = two_readers

    mine = _token_client(a).get(ME, {"id": b.pk, "user": b.pk, "email": b.email})
    article = _token_client(a).get(f"/api/v1/articles/{catalogue.premium[0].pk}/").json()

    assert mine.json()["id"] == a.pk and mine.json()["email"] == a.email
    assert b.email not in mine.content.decode()
    assert mine.json()["subscription"] is None and mine.json()["entitlements"] == []
    assert article["access"] == {"granted": False, "reason": "start_trial"}
    assert _token_client(b).get(ME).json()["subscription"]["status"] == "active"


def test_a_trial_start_naming_another_reader_starts_only_the_callers(two_readers):  # type: ignore[no-untyped-def]
    a, _, _ = two_readers
    other = UserFactory()
    body = {"user": other.pk, "user_id": other.pk, "email": other.email, "id": other.pk}

    response = _token_client(a).post(TRIAL, body, content_type="application/json")

    assert response.status_code == 201
    assert Trial.objects.get(user=a)
    other.refresh_from_db()
    assert other.trial_used_at is None and not Trial.objects.filter(user=other).exists()


def test_checkout_naming_another_readers_customer_opens_the_callers_own(two_readers, sandbox_api):  # type: ignore[no-untyped-def]
    a, b, catalogue = two_readers
    b_customer = Customer.objects.get(user=b).stripe_id
    body = {
        "plan": catalogue.plans[0].slug,
        "interval": "month",
        "customer": b_customer,
        "user": b.pk,
        "client_reference_id": str(b.pk),
    }

    response = _token_client(a).post(CHECKOUT, body, content_type="application/json")

    assert response.status_code == 201
    session_id = re.search(r"cs_\w+", response.json()["url"]).group(0)
    session = sandbox_api.client().v1.checkout.sessions.retrieve(session_id)
    assert session.client_reference_id == str(a.pk)
    assert session.customer == Customer.objects.get(user=a).stripe_id != b_customer


def test_another_readers_checkout_session_is_refused_on_the_welcome_page(two_readers):  # type: ignore[no-untyped-def]
    a, _, catalogue = two_readers
    c = UserFactory()  # pays at Checkout; A comes back with C's session id
    c_client = Client()
    c_client.force_login(c)
    started = c_client.post(
        "/billing/subscribe/", {"plan": catalogue.plans[0].slug, "period": "monthly"}
    )
    welcome = path_of(checkout_pay(started["Location"]))
    a_client = Client()
    a_client.force_login(a)

    refused = a_client.get(welcome)

    assert refused.status_code == 403
    assert not Subscription.objects.filter(user=a).exists()
    assert c_client.get(welcome).status_code == 200  # the session is real, and C's
    assert Subscription.objects.get(user=c)
    assert not Subscription.objects.filter(user=a).exists()


def test_the_portal_opens_only_the_callers_own_billing(two_readers):  # type: ignore[no-untyped-def]
    a, b, _ = two_readers
    body = {"customer": Customer.objects.get(user=b).stripe_id, "user": b.pk}

    api = _token_client(a).post(PORTAL, body, content_type="application/json")
    web = Client()
    web.force_login(a)
    page = web.post(MANAGE, body)

    assert api.status_code == 409 and api.json()["error"]["code"] == "no_billing_account"
    assert page.status_code == 302 and page["Location"] == "/pricing/"
    assert not Customer.objects.filter(user=a).exists()
    assert _token_client(b).post(PORTAL, {}, content_type="application/json").status_code == 201


# The admin --------------------------------------------------------------------------------

OPEN_TO_ALL = {"login/", "logout/"}  # the admin's sign-in, and signing out
ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _admin_routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _admin_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def admin_urls() -> list[str]:
    """Every address of the admin, its parameters filled with real rows of its model."""
    user = User.objects.order_by("pk").first()
    assert user is not None
    urls = []
    for route in _admin_routes(admin.site.get_urls()):
        if route in OPEN_TO_ALL:
            continue
        model = None
        parts = route.split("/")
        if len(parts) > 2:
            try:
                model = apps.get_model(parts[0], parts[1])
            except (LookupError, ValueError):  # not <app_label>/<model>/...
                model = None
        values = {
            "object_id": _pk_of(model) if model else str(user.pk),
            "id": str(user.pk),
            "entitlement_id": _pk_of(Entitlement),
            "content_type_id": str(ContentType.objects.get_for_model(User).pk),
            "app_label": "membership",
            "url": "no-such-page/",
        }
        filled = ROUTE_PARAMETER.sub(lambda m: values[m.group(1) or m.group(2)], route)
        urls.append("/admin/" + filled.replace("^", "").replace("$", ""))
    return urls


def _pk_of(model: Any) -> str:
    row = model.objects.order_by("pk").first()
    return str(row.pk) if row is not None else "1"


def _rows() -> dict[str, int]:
    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label
        in ("accounts", "membership", "billing", "account", "auth", "django_celery_beat")
    ]
    return {m._meta.label: m.objects.count() for m in models}


def test_every_admin_address_refuses_readers_and_visitors_and_opens_for_staff(two_readers):  # type: ignore[no-untyped-def]
    a, b, _ = two_readers
    Trial.objects.create(
        user=a, email_hash="x" * 64, started_at=a.date_joined, ends_at=a.date_joined
    )
    Entitlement.objects.create(
        user=b, source="comp", starts_at=b.date_joined, ends_at=b.date_joined
    )
    urls = admin_urls()
    reader = Client()
    reader.force_login(a)
    before = _rows()

    for client in (Client(), reader):
        for url in urls:
            for method in (client.get, client.post):
                response = method(url, {"is_staff": "on", "is_superuser": "on", "email": "x@y.z"})
                assert response.status_code in (302, 403), (method.__name__, url)
                if response.status_code == 302:
                    assert response["Location"].startswith("/admin/login/"), url

    assert _rows() == before
    assert not LogEntry.objects.exists()
    a.refresh_from_db()
    assert not a.is_staff and not a.is_superuser
    staff = Client()
    staff.force_login(StaffFactory())
    changelists = [u for u in urls if re.fullmatch(r"/admin/\w+/\w+/", u)]
    assert len(changelists) >= 10
    assert all(staff.get(u).status_code == 200 for u in changelists)
    print(f"admin: {len(urls)} addresses, GET and POST, anonymous and reader")


# Production settings -----------------------------------------------------------------------


def test_check_deploy_with_production_settings_reports_nothing(tmp_path):  # type: ignore[no-untyped-def]
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="masthead.example.com",
        CSRF_TRUSTED_ORIGINS="https://masthead.example.com",
        SITE_URL="https://masthead.example.com",
        STRIPE_SECRET_KEY="sk_live_" + secrets.token_hex(12),
        STRIPE_WEBHOOK_SECRET="whsec_" + secrets.token_hex(16),
        MASTHEAD_VAR_DIR=str(tmp_path),
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
