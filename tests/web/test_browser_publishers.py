"""The publishers' side in Chromium: the article page's read beacon reaching the ledger, and
staff opening the dashboard and a closed statement."""

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from membership.models import EntitlementSource
from publishers.models import ReadRow, TitleStaff
from publishers.statements import month_close
from tests.factories import PASSWORD, EntitlementFactory, StaffFactory, UserFactory
from tests.publishers.history import AFTER_NOV, IN_NOV, NOV, paid, read

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


def _sign_in(page: Page, base: str, email: str, then: str) -> None:
    page.goto(f"{base}/accounts/login/?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_article_page_reports_reading_with_a_beacon(
    live_server, browser: Browser, premium_article
) -> None:
    reader = UserFactory()
    EntitlementFactory(user=reader, source=EntitlementSource.SUBSCRIPTION)
    # The beacon is the one script of the reader's pages: this test alone runs scripts.
    context = browser.new_context(java_script_enabled=True, viewport={"width": 1280, "height": 500})
    page = context.new_page()
    try:
        _sign_in(page, live_server.url, reader.email, premium_article.get_absolute_url())
        expect(page.get_by_role("heading", name=premium_article.headline)).to_be_visible()
        page.mouse.wheel(0, 2000)
        time.sleep(2.2)
        page.goto(f"{live_server.url}/")  # leaving the page sends the last beacon (pagehide)
        for _ in range(50):
            if ReadRow.objects.exists():
                break
            time.sleep(0.1)
    finally:
        context.close()

    row = ReadRow.objects.get()
    assert (row.user_id, row.article_id, row.source) == (
        reader.pk,
        premium_article.pk,
        "subscription",
    )
    assert 1 <= row.seconds <= 10
    assert row.progress > 0


def test_publisher_staff_open_the_dashboard_and_their_statement(
    live_server, page: Page, premium_article
) -> None:
    title = premium_article.title
    payer = UserFactory()
    paid(payer, 1000, IN_NOV)
    read(payer, title, NOV.replace(day=9), 120)
    month_close(month=NOV, at=AFTER_NOV)
    staff = UserFactory(is_staff=True, email="desk@harbour.example")
    TitleStaff.objects.create(user=staff, title=title)

    _sign_in(page, live_server.url, staff.email, "/admin/dashboard/?on=2026-11-30")
    expect(
        page.get_by_role(
            "heading", name="Qualifying reads and engaged hours per title, last 30 days"
        )
    ).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(1)
    expect(page.get_by_role("cell", name="The Harbour Gazette")).to_be_visible()

    page.get_by_role("link", name="Statements").click()
    page.get_by_role("link", name="The Harbour Gazette").click()
    expect(page.get_by_role("heading", name="The Harbour Gazette November 2026")).to_be_visible()
    expect(page.get_by_text("£5.00").first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV with every ledger row").click()
    assert "2026-11-09" in Path(download.value.path()).read_text()


def test_masthead_staff_see_every_chart(live_server, page: Page) -> None:
    staff = StaffFactory(email="figures@masthead.example")
    _sign_in(page, live_server.url, staff.email, "/admin/")
    page.get_by_role("link", name="Dashboard").click()

    expect(
        page.get_by_role("heading", name="Monthly recurring revenue (MRR), last 90 days")
    ).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(4)
    expect(page.get_by_text("When a cancellation leaves MRR")).to_be_visible()
