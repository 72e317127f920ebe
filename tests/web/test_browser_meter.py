"""The meter in Chromium: a visitor's free articles, the counter and the registration wall."""

import pytest
from playwright.sync_api import Page, expect

from membership.meter_models import MeterRead
from tests.factories import ArticleFactory, TitleFactory
from tests.web.conftest import MARKER
from tests.web.test_browser import snap

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture
def three(db):  # type: ignore[no-untyped-def]
    paper = TitleFactory(name="The Harbour Gazette", slug="harbour-gazette")
    return [
        ArticleFactory(title=paper, headline=f"Harbour story number {n}") for n in (1, 2, 3)
    ]


def test_a_visitor_reads_two_free_then_the_registration_wall_leads_to_sign_up(
    live_server, page: Page, three
) -> None:
    first, second, third = (f"{live_server.url}/articles/{a.pk}/" for a in three)

    page.goto(first)
    expect(page.locator(".meter-count")).to_have_text("1 of 2 free articles this month")
    expect(page.get_by_text(MARKER)).to_be_visible()
    snap(page, "meter-1-first-free-article")
    cookie = next(c for c in page.context.cookies() if c["name"] == "masthead_device")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.goto(second)
    expect(page.locator(".meter-count")).to_have_text("2 of 2 free articles this month")

    page.goto(first)  # a re-read is free
    expect(page.locator(".meter-count")).to_have_text("2 of 2 free articles this month")

    response = page.goto(third)
    assert response is not None and MARKER not in response.text()
    wall = page.get_by_role("heading", name="Create a free account to read 5 articles a month")
    expect(wall).to_be_visible()
    expect(page.locator(".meter-spent")).to_contain_text("2 of 2 free articles this month")
    snap(page, "meter-2-registration-wall")
    assert page.evaluate("document.cookie").find("masthead_device") == -1  # HttpOnly

    page.locator(".paywall").get_by_role("link", name="Sign up").click()
    expect(page.get_by_label("Email")).to_be_visible()
    assert MeterRead.objects.count() == 2
