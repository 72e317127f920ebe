"""Signing up as the app does: sign-up waits for the address to be confirmed, and the
emailed key (POSTed to allauth's verify endpoint with the sign-up's token) signs in."""

import re

from django.core import mail
from rest_framework.test import APIClient

from accounts.addresses import email_normalize

SIGNUP = "/_allauth/app/v1/auth/signup"
VERIFY = "/_allauth/app/v1/auth/email/verify"
STRONG_PASSWORD = "plover-quietly-harbour-91"
KEY = re.compile(r"/accounts/confirm-email/([^/\s]+)/")


def app_signup(email: str, password: str = STRONG_PASSWORD):  # type: ignore[no-untyped-def]
    """POST the sign-up; a new or a taken address alike answer 401, verify_email pending."""
    return APIClient().post(SIGNUP, {"email": email, "password": password}, format="json")


def assert_waits_for_the_email(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["meta"]["is_authenticated"] is False
    assert {"id": "verify_email", "is_pending": True} in body["data"]["flows"]


def confirmation_key(to: str) -> str:
    """The key of the newest confirmation email sent to ``to``."""
    for message in reversed(mail.outbox):
        if message.to == [to] and (found := KEY.search(message.body)):
            return found.group(1)
    raise AssertionError(f"no confirmation email to {to}")


def app_signup_confirmed(email: str) -> str:
    """Sign up, confirm the address with the emailed key, and return the new session token."""
    response = app_signup(email)
    assert_waits_for_the_email(response)
    pending = APIClient(HTTP_X_SESSION_TOKEN=response.json()["meta"]["session_token"])
    key = confirmation_key(email_normalize(email))
    verified = pending.post(VERIFY, {"key": key}, format="json")
    assert verified.status_code == 200, verified.content
    return verified.json()["meta"]["session_token"]
