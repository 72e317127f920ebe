"""The app signs up and in through allauth headless and reads with its X-Session-Token."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.signing_up import (
    VERIFY,
    app_signup,
    assert_waits_for_the_email,
    confirmation_key,
)
from tests.api.conftest import MARKER
from tests.factories import PASSWORD, ArticleFactory, UserFactory

SIGNUP = "/_allauth/app/v1/auth/signup"
LOGIN = "/_allauth/app/v1/auth/login"
STRONG_PASSWORD = "plover-quietly-harbour-91"


def signup(client: APIClient, email: str):  # type: ignore[no-untyped-def]
    return client.post(SIGNUP, {"email": email, "password": STRONG_PASSWORD}, format="json")


@pytest.mark.usefixtures("meter_off")  # the entitlement paywall alone
def test_a_reader_signs_up_verifies_starts_the_trial_and_reads_with_the_token(db):
    article = ArticleFactory()
    assert_waits_for_the_email(app_signup("new.reader@example.com"))
    # With ACCOUNT_EMAIL_VERIFICATION=optional the password signs in before the address is
    # confirmed: the reader is in, but unverified.
    login = APIClient().post(
        LOGIN, {"email": "new.reader@example.com", "password": STRONG_PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    app = APIClient(HTTP_X_SESSION_TOKEN=login.json()["meta"]["session_token"])
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
        {"key": confirmation_key("new.reader@example.com")},
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


def test_sign_up_waits_for_the_emailed_link_and_the_link_signs_in(db, mailoutbox):
    response = signup(APIClient(), "reader@example.com")

    assert_waits_for_the_email(response)
    assert (
        APIClient(HTTP_X_SESSION_TOKEN=response.json()["meta"]["session_token"])
        .get("/api/v1/me/")
        .status_code
        == 401
    )
    assert len(mailoutbox) == 1 and "confirm your email address" in mailoutbox[0].subject
    pending = APIClient(HTTP_X_SESSION_TOKEN=response.json()["meta"]["session_token"])
    verified = pending.post(VERIFY, {"key": confirmation_key("reader@example.com")}, "json")
    token = verified.json()["meta"]["session_token"]
    assert APIClient(HTTP_X_SESSION_TOKEN=token).get("/api/v1/me/").status_code == 200


def test_sign_up_with_a_taken_address_answers_as_for_a_new_one_and_emails_the_owner(db, mailoutbox):
    """Enumeration prevention: a stranger learns nothing; the owner hears of the attempt."""
    UserFactory(email="reader@example.com")
    new = signup(APIClient(), "someone.new@example.com")

    taken = signup(APIClient(), "Reader@Example.com")

    assert_waits_for_the_email(new)
    assert_waits_for_the_email(taken)
    assert taken.json()["data"] == new.json()["data"]
    assert User.objects.filter(email__iexact="reader@example.com").count() == 1
    owner = [m for m in mailoutbox if m.to == ["reader@example.com"]]
    assert len(owner) == 1 and "You already have a Masthead account" in owner[0].subject


def test_an_unconfirmed_reader_may_still_sign_in_with_the_password(db):
    """Sign-in does not wait for the address (ACCOUNT_EMAIL_VERIFICATION=optional): the
    paywall asks for it before the trial instead."""
    signup(APIClient(), "reader@example.com")

    response = APIClient().post(
        LOGIN, {"email": "reader@example.com", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    token = response.json()["meta"]["session_token"]
    assert APIClient(HTTP_X_SESSION_TOKEN=token).get("/api/v1/me/").status_code == 200


def test_sign_up_refuses_a_weak_password(db):
    response = APIClient().post(
        SIGNUP, {"email": "reader@example.com", "password": "12345678"}, format="json"
    )

    assert response.status_code == 400
    assert not User.objects.exists()


@override_settings(EMAIL_VERIFICATION_AT_SIGN_IN="mandatory")
def test_with_mandatory_verification_sign_in_waits_for_the_email_too(db, mailoutbox):
    """ACCOUNT_EMAIL_VERIFICATION=mandatory: an unconfirmed reader's password signs in only
    after the emailed link."""
    signup(APIClient(), "reader@example.com")
    cache.clear()  # the three minutes between two confirmation emails have passed

    response = APIClient().post(
        LOGIN, {"email": "reader@example.com", "password": STRONG_PASSWORD}, format="json"
    )

    assert_waits_for_the_email(response)
    token = response.json()["meta"]["session_token"]
    assert APIClient(HTTP_X_SESSION_TOKEN=token).get("/api/v1/me/").status_code == 401
    assert len(mailoutbox) == 2  # the sign-up's confirmation, and the sign-in's


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
