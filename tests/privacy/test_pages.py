"""The account page's "Your data" section, the export request, and "Delete my account"."""

import pytest
from django.test import Client

from accounts.models import User
from privacy.models import DataExport, ErasureRequest
from tests.factories import PASSWORD
from tests.web.html import assert_heading_order, assert_private

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(reader) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(reader)
    return client


def test_the_account_page_offers_an_export_and_account_deletion(browser):
    page = browser.get("/account/")

    text = page.content.decode()
    assert_heading_order(page)
    assert "Your data" in text and "Export my data" in text and "Delete my account" in text


def test_export_my_data_starts_an_export_and_says_an_email_follows(browser, reader):
    response = browser.post("/account/data/export/", follow=True)

    assert "We will email you a link" in response.content.decode()
    assert DataExport.objects.get(user=reader).status == "ready"
    again = browser.post("/account/data/export/", follow=True)
    assert "in the last 24 hours" in again.content.decode()
    assert DataExport.objects.filter(user=reader).count() == 1


def test_the_delete_page_says_what_happens_before_anything_is_done(browser, reader):
    page = browser.get("/account/delete/")

    text = page.content.decode()
    assert_private(page)
    assert_heading_order(page)
    assert "signed out everywhere" in text
    assert "cancelled straight away" in text
    assert "Invoices and payment records" in text
    assert not ErasureRequest.objects.exists()
    assert User.objects.get(pk=reader.pk).is_active


def test_a_wrong_password_keeps_the_account(browser, reader):
    response = browser.post("/account/delete/", {"password": "wrong-password"})

    assert response.status_code == 403
    assert "not right" in response.content.decode()
    assert not ErasureRequest.objects.exists()
    assert browser.get("/account/").status_code == 200


def test_the_right_password_deletes_the_account_and_signs_out(browser, reader):
    response = browser.post("/account/delete/", {"password": PASSWORD}, follow=True)

    assert "Your account is deleted" in response.content.decode()
    assert browser.get("/account/").status_code == 302  # signed out
    reader.refresh_from_db()
    assert reader.email.endswith("@erased.invalid")


def test_the_delete_page_needs_a_signed_in_reader(client):
    assert client.get("/account/delete/").status_code == 302
    assert client.post("/account/delete/", {"password": PASSWORD}).status_code == 302
    assert not ErasureRequest.objects.exists()
