"""The reader's account: the email is the login, unique whatever its case."""

import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_email_is_stored_lower_case_and_signs_in_in_any_case() -> None:
    User.objects.create_user("Reader@Example.COM", "a-long-pass-phrase")

    assert User.objects.get().email == "reader@example.com"
    assert authenticate(username="READER@example.com", password="a-long-pass-phrase")


def test_the_same_address_in_another_case_is_refused() -> None:
    User.objects.create_user("reader@example.com", "a-long-pass-phrase")
    with pytest.raises(IntegrityError):
        User.objects.create_user("Reader@EXAMPLE.com", "another-pass-phrase")


def test_passwords_are_hashed_with_argon2() -> None:
    user = User.objects.create_user("argon@example.com", "a-long-pass-phrase")
    assert user.password.startswith("argon2$")
