"""One mailbox, one stored spelling, one trial: sign-up normalises the address and refuses
one that hides control characters or imitates another domain, on the app and on the web."""

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.addresses import EmailRefusal, email_normalize
from accounts.models import User
from membership.models import Trial
from tests.accounts.signing_up import (
    STRONG_PASSWORD,
    app_signup,
    app_signup_confirmed,
    assert_waits_for_the_email,
)
from tests.factories import UserFactory

WEB_SIGNUP = "/accounts/signup/"
TRIAL = "/api/v1/me/trial/"
_signup = app_signup


def _trial_for(email: str):  # type: ignore[no-untyped-def]
    """Sign up with ``email``, confirm it, and ask for the trial with the session token."""
    app = APIClient(HTTP_X_SESSION_TOKEN=app_signup_confirmed(email))
    return app.post(TRIAL)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ('"name"@gmail.com', "name@gmail.com"),
        ("  Name@GMAIL.com. ", "name@gmail.com"),
        ("name@\uff47\uff4d\uff41\uff49\uff4c.com", "name@gmail.com"),  # full-width, IDNA maps
        ("name@xn--e1afmkfd.xn--p1ai", "name@пример.рф"),  # one spelling of an IDN domain
        ("name@пример.рф", "name@пример.рф"),
        ("name@例え.jp", "name@例え.jp"),
    ],
)
def test_an_address_is_stored_in_one_spelling(given: str, stored: str) -> None:
    assert email_normalize(given) == stored


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("name@gmai\u04cf.com", EmailRefusal.LOOKALIKE_DOMAIN),  # Cyrillic palochka for "l"
        ("name@xn--gmail-9ua.com", EmailRefusal.LOOKALIKE_DOMAIN),  # gmaúil.com
        ("name@gmaúil.com", EmailRefusal.LOOKALIKE_DOMAIN),
        ("name@\u0441\u043e\u0440.com", EmailRefusal.LOOKALIKE_DOMAIN),  # Cyrillic "cop"
        ("na\x07me@gmail.com", EmailRefusal.CONTROL_CHARACTERS),
        ('"na\x01me"@gmail.com', EmailRefusal.CONTROL_CHARACTERS),
        ("na\u200bme@gmail.com", EmailRefusal.CONTROL_CHARACTERS),  # zero-width space
        ("name@gmail.com\u202e", EmailRefusal.CONTROL_CHARACTERS),  # right-to-left override
        ('"john smith"@example.com', EmailRefusal.QUOTED),
        ("name@localhost", EmailRefusal.INVALID),
    ],
)
def test_an_address_that_hides_or_imitates_is_refused_with_its_code(given: str, code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        email_normalize(given)

    assert refused.value.code == code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("name@gmai\u04cf.com", EmailRefusal.LOOKALIKE_DOMAIN),
        ("name@xn--gmail-9ua.com", EmailRefusal.LOOKALIKE_DOMAIN),
        ('"na\x01me"@gmail.com', EmailRefusal.CONTROL_CHARACTERS),
        ("na\u200bme@gmail.com", "invalid"),  # Django's own check refuses it first
    ],
)
def test_app_sign_up_refuses_the_address_with_a_400_code_and_message(email: str, code: str):  # type: ignore[no-untyped-def]
    response = _signup(email)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["param"] == "email" and error["code"] == code
    assert error["message"]
    assert not User.objects.exists() and not EmailAddress.objects.exists()


@pytest.mark.django_db
def test_web_sign_up_shows_the_refusal_next_to_the_email_field(client):  # type: ignore[no-untyped-def]
    response = client.post(
        WEB_SIGNUP, {"email": "name@gmai\u04cf.com", "password1": STRONG_PASSWORD}
    )

    page = response.content.decode()
    email_field = page[page.index('<label for="id_email">') :]
    email_field = email_field[: email_field.index("</div>")]
    assert response.status_code == 200
    assert 'aria-invalid="true"' in email_field
    assert "imitates plain letters" in email_field
    assert not User.objects.exists()


@pytest.mark.django_db
def test_a_quoted_address_is_the_same_account_as_the_plain_one(mailoutbox):  # type: ignore[no-untyped-def]
    UserFactory(email="name@gmail.com")

    response = _signup('"name"@gmail.com')

    assert_waits_for_the_email(response)  # as for a new address: nothing tells them apart
    assert list(User.objects.values_list("email", flat=True)) == ["name@gmail.com"]
    assert [m.to for m in mailoutbox] == [["name@gmail.com"]]
    assert "You already have a Masthead account" in mailoutbox[0].subject


@pytest.mark.django_db
@pytest.mark.parametrize("second", ['"n.a.m.e+news"@googlemail.com', '"Name"@GMAIL.COM'])
def test_a_second_spelling_of_a_gmail_address_gets_no_second_trial(second: str):  # type: ignore[no-untyped-def]
    assert _trial_for("name@gmail.com").status_code == 201
    # The first account moves to another address: the trial stays with the person.
    User.objects.filter(email="name@gmail.com").update(email="renamed@example.com")
    EmailAddress.objects.filter(email="name@gmail.com").update(email="renamed@example.com")
    cache.clear()  # later: allauth sends one confirmation per address every three minutes

    response = _trial_for(second)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "trial_already_used"
    assert Trial.objects.count() == 1


@pytest.mark.django_db
def test_the_model_refuses_to_store_an_address_with_control_characters():  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        User.objects.create_user("na\x00me@example.com", STRONG_PASSWORD)

    assert not User.objects.exists()
