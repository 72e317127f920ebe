"""Links in allauth's emails start with SITE_URL, whatever Host the request came with.

``ALLOWED_HOSTS`` checks a Host's name but not its port, so ``news.example.com:1337`` is
accepted; a link built from it would send a reader's password-reset key to port 1337.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SITE = "https://news.example.com"
SPOOFED = "news.example.com:1337"
URL = re.compile(r"https?://[^\s'\"<>]+")
STRONG_PASSWORD = "plover-quietly-harbour-91"


@pytest.fixture(autouse=True)
def _public_site(settings):  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["news.example.com"]
    settings.SITE_URL = SITE


def _links(message: mail.EmailMessage) -> list[str]:
    """Every URL in the message, and a check that nothing names the spoofed port."""
    text = f"{message.subject}\n{message.body}"
    assert "1337" not in text, text
    return URL.findall(message.body)


def _only_link(message: mail.EmailMessage) -> str:
    links = _links(message)
    assert links and all(link.startswith(SITE + "/") for link in links), links
    return links[0]


def test_the_web_password_reset_email_links_to_site_url_and_the_link_works(mailoutbox):  # type: ignore[no-untyped-def]
    reader = UserFactory()
    client = Client(HTTP_HOST=SPOOFED)

    client.post("/accounts/password/reset/", {"email": reader.email})

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    link = _only_link(message)
    assert link.startswith(SITE + "/accounts/password/reset/key/")
    assert message.subject.startswith("Masthead: ")
    followed = Client(HTTP_HOST="news.example.com").get(link.removeprefix(SITE), follow=True)
    assert followed.status_code == 200
    assert 'name="password1"' in followed.content.decode()


def test_the_app_password_reset_email_links_to_site_url(mailoutbox):  # type: ignore[no-untyped-def]
    reader = UserFactory()

    response = APIClient(HTTP_HOST=SPOOFED).post(
        "/_allauth/app/v1/auth/password/request", {"email": reader.email}, format="json"
    )

    assert response.status_code == 200
    assert _only_link(mailoutbox[0]).startswith(SITE + "/accounts/password/reset/key/")


def test_a_sign_up_with_a_taken_address_emails_its_owner_links_on_site_url(mailoutbox):  # type: ignore[no-untyped-def]
    reader = UserFactory()

    response = APIClient(HTTP_HOST=SPOOFED).post(
        "/_allauth/app/v1/auth/signup",
        {"email": reader.email, "password": STRONG_PASSWORD},
        format="json",
    )

    assert response.status_code == 401
    assert "You already have a Masthead account" in mailoutbox[0].subject
    assert _only_link(mailoutbox[0]) == SITE + "/accounts/password/reset/"


def test_a_reset_for_an_unknown_address_links_to_sign_up_on_site_url(mailoutbox):  # type: ignore[no-untyped-def]
    Client(HTTP_HOST=SPOOFED).post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert len(mailoutbox) == 1
    assert _only_link(mailoutbox[0]) == SITE + "/accounts/signup/"


def test_the_sign_up_confirmation_email_links_to_site_url_and_confirms(mailoutbox):  # type: ignore[no-untyped-def]
    response = APIClient(HTTP_HOST=SPOOFED).post(
        "/_allauth/app/v1/auth/signup",
        {"email": "new.reader@example.com", "password": STRONG_PASSWORD},
        format="json",
    )

    assert response.status_code == 401  # waits for the address to be confirmed
    link = _only_link(mailoutbox[0])
    assert link.startswith(SITE + "/accounts/confirm-email/")
    browser = Client(HTTP_HOST="news.example.com")
    assert browser.get(link.removeprefix(SITE)).status_code == 200
    browser.post(link.removeprefix(SITE))
    assert EmailAddress.objects.get(email="new.reader@example.com").verified
