"""A member created by staff in the admin has their address on record for allauth: the
paywall asks them to verify it, and the confirmation can be sent again from the web."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, ArticleFactory, StaffFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "harbour-plover-quietly-17"
PASSWORDS = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
# The member page's read-only inlines (trial, entitlements) post their empty management forms.
INLINES = {
    f"{prefix}-{field}": "0"
    for prefix in ("trial", "entitlements")
    for field in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def staff_client() -> Client:
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


@pytest.mark.usefixtures("meter_off")  # the entitlement paywall alone
def test_a_member_created_in_the_admin_is_asked_to_verify_and_can_have_the_email_resent():
    created = staff_client().post(
        reverse("admin:accounts_user_add"),
        {"email": "Desk.Made@Example.com", **PASSWORDS, **INLINES},
    )
    member = User.objects.get(email__iexact="desk.made@example.com")
    address = EmailAddress.objects.get(user=member)

    reader = Client()
    reader.force_login(member)
    article = ArticleFactory()
    paywall = reader.get(f"/api/v1/articles/{article.pk}/").json()
    mail.outbox.clear()
    resent = reader.post("/accounts/email/", {"email": member.email, "action_send": ""})

    assert created.status_code == 302, created.content
    assert (address.email, address.primary, address.verified) == (member.email, True, False)
    assert paywall["access"]["reason"] == "verify_email"
    assert resent.status_code == 302
    assert [message.to for message in mail.outbox] == [[member.email]]


def test_editing_a_member_records_no_second_address():
    client = staff_client()
    client.post(
        reverse("admin:accounts_user_add"),
        {"email": "desk@example.com", **PASSWORDS, **INLINES},
    )
    member = User.objects.get(email="desk@example.com")

    edited = client.post(
        reverse("admin:accounts_user_change", args=[member.pk]),
        {"email": member.email, "full_name": "Desk", "is_active": "on", **INLINES},
    )

    assert edited.status_code == 302, edited.content
    member.refresh_from_db()
    assert member.full_name == "Desk"
    assert EmailAddress.objects.filter(user=member).count() == 1


def test_a_reader_without_staff_rights_cannot_create_members():
    reader = Client()
    reader.force_login(StaffFactory(is_staff=False))

    refused = reader.post(
        reverse("admin:accounts_user_add"),
        {"email": "nobody@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert refused.status_code == 302 and "/login/" in refused["Location"]
    assert not User.objects.filter(email="nobody@example.com").exists()
