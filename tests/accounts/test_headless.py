"""The app signs up and in through allauth headless and reads with its X-Session-Token."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from tests.api.conftest import MARKER
from tests.factories import PASSWORD, ArticleFactory, UserFactory

SIGNUP = "/_allauth/app/v1/auth/signup"
LOGIN = "/_allauth/app/v1/auth/login"
STRONG_PASSWORD = "plover-quietly-harbour-91"


def signup(client: APIClient, email: str):  # type: ignore[no-untyped-def]
    return client.post(SIGNUP, {"email": email, "password": STRONG_PASSWORD}, format="json")


def confirmation_key(message: mail.EmailMessage) -> str:
    """Return the key of allauth's confirmation link in the email."""
    found = re.search(r"/confirm-email/([^/\s]+)/", message.body)
    assert found, message.body
    return found.group(1)


def test_a_reader_signs_up_verifies_starts_the_trial_and_reads_with_the_token(db):
    article = ArticleFactory()
    response = signup(APIClient(), "new.reader@example.com")
    assert response.status_code == 200
    token = response.json()["meta"]["session_token"]
    app = APIClient(HTTP_X_SESSION_TOKEN=token)
    detail = reverse("membership:article-detail", kwargs={"pk": article.pk})

    me = app.get("/api/v1/me/")
    refused = app.post("/api/v1/me/trial/")
    paywall = app.get(detail).json()["paywall"]
    resend = paywall["actions"][0]
    mail.outbox.clear()
    send = getattr(app, resend["method"].lower())
    too_soon = send(resend["url"], resend["params"], format="json")
    # allauth sends one confirmation per address every 3 minutes ("confirm_email").
    with time_machine.travel(timezone.now() + timedelta(minutes=4)):
        resent = send(resend["url"], resend["params"], format="json")
    verified = app.post(
        "/_allauth/app/v1/auth/email/verify",
        {"key": confirmation_key(mail.outbox[-1])},
        format="json",
    )
    trial = app.post("/api/v1/me/trial/")
    reading = app.get(detail)

    assert me.status_code == 200
    assert me.json()["email"] == "new.reader@example.com"
    assert me.json()["trial_eligibility"] == "verify_email"
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "email_unverified"
    assert paywall["reason"] == "verify_email"
    assert resend["kind"] == "resend_verification"
    assert too_soon.status_code == 403
    assert resent.status_code == 200, resent.content
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.reader@example.com"]
    assert verified.status_code == 200, verified.content
    assert trial.status_code == 201
    assert reading.json()["access"] == {"granted": True, "reason": "trial"}
    assert MARKER in reading.json()["body"]


def test_a_reader_signs_in_and_the_token_authenticates(db):
    reader = UserFactory(email="reader@example.com")

    response = APIClient().post(
        LOGIN, {"email": "Reader@Example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    token = response.json()["meta"]["session_token"]
    me = APIClient(HTTP_X_SESSION_TOKEN=token).get("/api/v1/me/")
    assert me.json()["id"] == reader.pk


def test_sign_in_with_a_wrong_password_is_denied(db):
    UserFactory(email="reader@example.com")

    response = APIClient().post(
        LOGIN, {"email": "reader@example.com", "password": "not-the-password"}, format="json"
    )

    assert response.status_code == 400
    assert "session_token" not in response.json().get("meta", {})


def test_sign_up_refuses_an_address_taken_in_another_case(db):
    assert signup(APIClient(), "reader@example.com").status_code == 200

    response = signup(APIClient(), "Reader@Example.com")

    assert response.status_code == 400
    assert response.json()["errors"][0]["param"] == "email"
    assert User.objects.count() == 1


def test_sign_up_refuses_a_weak_password(db):
    response = APIClient().post(
        SIGNUP, {"email": "reader@example.com", "password": "12345678"}, format="json"
    )

    assert response.status_code == 400
    assert not User.objects.exists()


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_with_mandatory_verification_sign_up_waits_for_the_email(db, mailoutbox):
    response = signup(APIClient(), "reader@example.com")

    assert response.status_code == 401
    flows = response.json()["data"]["flows"]
    assert {"id": "verify_email", "is_pending": True} in [
        {"id": flow["id"], "is_pending": flow.get("is_pending", False)} for flow in flows
    ]
    token = response.json()["meta"]["session_token"]
    assert APIClient(HTTP_X_SESSION_TOKEN=token).get("/api/v1/me/").status_code == 401
    assert len(mailoutbox) == 1


def test_sign_in_is_refused_even_with_the_right_password_after_five_failures(db):
    UserFactory(email="reader@example.com")
    client = APIClient()
    wrong = {"email": "reader@example.com", "password": "not-the-password"}

    failures = [client.post(LOGIN, wrong, format="json").status_code for _ in range(5)]
    response = client.post(LOGIN, {**wrong, "password": PASSWORD}, format="json")

    assert failures == [400] * 5
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_many_login_attempts"
    assert "session_token" not in response.json().get("meta", {})


@pytest.mark.parametrize("path", ["/accounts/signup/", "/accounts/login/"])
def test_the_web_sign_up_and_sign_in_pages_answer(client, db, path):
    assert client.get(path).status_code == 200
