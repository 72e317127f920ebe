"""In Chromium: a demo reader reads what deleting their account does, confirms with their
password, is signed out, and can no longer sign in with the address."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.models import User
from membership.management.commands.seed_demo import READER_PASSWORD, TRIAL_READER
from privacy.models import ErasureAudit
from tests.web.test_browser import snap

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(READER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_demo_reader_deletes_their_account(live_server, page: Page) -> None:
    call_command("seed_demo", no_progress=True, verbosity=0)
    reader = User.objects.get(email=TRIAL_READER)

    page.goto(f"{live_server.url}/accounts/login/?next=/account/")
    sign_in(page, TRIAL_READER)
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    page.get_by_role("link", name="Delete my account").click()

    expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()
    expect(page.get_by_text("You are signed out everywhere at once")).to_be_visible()
    expect(page.get_by_text("Invoices and payment records")).to_be_visible()
    snap(page, "privacy-1-delete-account")
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    assert User.objects.get(pk=reader.pk).is_active

    page.get_by_label("Your password").fill(READER_PASSWORD)
    page.get_by_role("button", name="Delete my account for good").click()

    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    snap(page, "privacy-2-deleted")
    reader.refresh_from_db()
    assert reader.email != TRIAL_READER and reader.full_name == "" and not reader.is_active
    assert ErasureAudit.objects.get(member_id=reader.pk).by_reader
    page.goto(f"{live_server.url}/account/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/account/")
    sign_in(page, TRIAL_READER)
    expect(page.get_by_role("heading", name="Your data")).to_have_count(0)
    assert not User.objects.filter(email=TRIAL_READER).exists()
