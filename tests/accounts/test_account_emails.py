"""Account emails (sign-up confirmation, password reset, ...) speak as Masthead, in plain
text and HTML like the billing emails, with Masthead's name in the subject, not a host."""

from datetime import UTC, datetime

import pytest
from allauth.account.adapter import get_adapter
from django.core import mail
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOST = "127.0.0.1:8100"

KINDS = {
    "email_confirmation": {"activate_url": "https://x.example/confirm/k/", "code": ""},
    "email_confirmation_signup": {"activate_url": "https://x.example/confirm/k/", "code": ""},
    "password_reset_key": {"password_reset_url": "https://x.example/reset/k/"},
    "password_reset": {"password_reset_url": "https://x.example/reset/k/"},
    "password_reset_code": {"code": "XK4P2Q"},
    "login_code": {"code": "XK4P2Q"},
    "unknown_account": {"signup_url": "https://x.example/accounts/signup/"},
    "account_already_exists": {"password_reset_url": "https://x.example/reset/"},
    "password_changed": {},
    "password_set": {},
    "email_changed": {"from_email": "old@example.com", "to_email": "new@example.com"},
    "email_confirm": {},
    "email_deleted": {"deleted_email": "old@example.com"},
}


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://read.masthead.example"


def parts(message: mail.EmailMessage) -> tuple[str, str]:
    assert isinstance(message, mail.EmailMultiAlternatives)
    html = [content for content, kind in message.alternatives if kind == "text/html"]
    assert len(html) == 1
    return message.body, str(html[0])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_account_email_is_in_masthead_voice_in_text_and_html(kind: str) -> None:
    context = {
        "user": UserFactory.build(email="reader@example.com"),
        "email": "reader@example.com",
        "ip": "192.0.2.1",
        "user_agent": "Firefox",
        "timestamp": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        **KINDS[kind],
    }

    message = get_adapter().render_mail(f"account/email/{kind}", "reader@example.com", context)

    assert message.subject.startswith("Masthead: ") and "[" not in message.subject
    text, html = parts(message)
    for body in (text, html):
        assert "Hello," in body and "The Masthead team" in body
        assert "https://read.masthead.example/" in body
        assert "Hello from" not in body and "Thank you for using" not in body
        for value in KINDS[kind].values():
            if value:
                assert value in body, (kind, value)
    assert "<html" in html and "<html" not in text


def test_signing_up_sends_the_confirmation_without_the_host_in_the_subject(
    client: Client,
) -> None:
    client.post(
        "/accounts/signup/",
        {"email": "new.reader@example.com", "password1": "a-long-new-passphrase-9"},
        HTTP_HOST=HOST,
    )

    (message,) = mail.outbox
    assert message.subject == "Masthead: Welcome: confirm your email address"
    assert "127.0.0.1" not in message.subject
    text, html = parts(message)
    assert "Welcome to Masthead" in text and "Confirm your email address</a>" in html


def test_a_password_reset_is_sent_in_masthead_voice(client: Client) -> None:
    reader = UserFactory()

    client.post("/accounts/password/reset/", {"email": reader.email}, HTTP_HOST=HOST)

    (message,) = mail.outbox
    assert message.subject == "Masthead: Reset your password"
    text, html = parts(message)
    assert "/accounts/password/reset/key/" in text
    assert "Choose a new password</a>" in html
