"""A reader's journeys in Chromium against a live server, with screenshots of each step."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.accounts.signing_up import confirmation_key
from tests.factories import PASSWORD
from tests.web.conftest import MARKER, lapsed_reader, never_trialled_reader

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("meter_off"),  # the entitlement paywall (test_browser_meter.py)
    # pytest-playwright 0.10.0's own fallback ``base_url`` fixture trips a pytest 9 deprecation.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def snap(page: Page, name: str) -> None:
    """Save the page at desktop and phone width; on a phone it must fit one column."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {label} width"
    page.set_viewport_size(WIDTHS["desktop"])


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_anonymous_reader_signs_up_verifies_starts_the_trial_and_reads_the_article(
    live_server, page: Page, premium_article
) -> None:
    article_url = f"{live_server.url}/articles/{premium_article.pk}/"

    response = page.goto(article_url)
    assert response is not None and MARKER not in response.text()
    expect(page.get_by_role("heading", name="Sign up to read this article")).to_be_visible()
    expect(page.get_by_text("14 days free").first).to_be_visible()
    snap(page, "signup-flow-1-paywall")

    page.locator(".paywall").get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("new.reader@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    snap(page, "signup-flow-2-sign-up")
    page.get_by_role("button", name="Sign up").click()

    # Sign-up waits for the emailed link (it reads alike for a taken address).
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    snap(page, "signup-flow-2b-check-your-email")
    page.goto(
        f"{live_server.url}/accounts/confirm-email/{confirmation_key('new.reader@example.com')}/"
    )
    page.get_by_role("button", name="Confirm").click()

    # The confirmed address brings the reader back to the article, where the trial waits.
    expect(page).to_have_url(article_url)
    assert MARKER not in page.content()
    page.goto(article_url)
    snap(page, "signup-flow-4-start-trial")
    page.get_by_role("button", name="Start your 14-day free trial").click()

    expect(page).to_have_url(article_url)
    expect(page.get_by_text(MARKER)).to_be_visible()
    expect(page.get_by_text("Your 14-day free trial has started.")).to_be_visible()
    snap(page, "signup-flow-5-reading")


def test_a_reader_without_access_never_sees_the_body(
    live_server, page: Page, premium_article
) -> None:
    reader = never_trialled_reader()

    page.goto(live_server.url)
    assert MARKER not in page.content()
    snap(page, "no-access-1-home")
    page.get_by_role("link", name=premium_article.headline).click()
    assert MARKER not in page.content()
    page.get_by_role("link", name="Already a member? Sign in").click()
    sign_in(page, reader.email)

    expect(page).to_have_url(f"{live_server.url}/articles/{premium_article.pk}/")
    expect(page.get_by_role("heading", name="Start your 14-day free trial")).to_be_visible()
    assert MARKER not in page.content()
    snap(page, "no-access-2-article")
    page.get_by_role("link", name=premium_article.title.name).first.click()
    assert MARKER not in page.content()
    snap(page, "no-access-3-title")


def test_a_lapsed_reader_sees_the_plans(live_server, page: Page, premium_article, plans) -> None:
    reader = lapsed_reader()
    article_url = f"{live_server.url}/articles/{premium_article.pk}/"

    page.goto(f"{live_server.url}/accounts/login/?next=/articles/{premium_article.pk}/")
    sign_in(page, reader.email)

    expect(page).to_have_url(article_url)
    expect(page.get_by_role("heading", name="Choose a plan to keep reading")).to_be_visible()
    expect(page.get_by_role("heading", name="Everything")).to_be_visible()
    assert MARKER not in page.content()
    snap(page, "lapsed-1-plans")
    page.goto(f"{live_server.url}/pricing/?period=yearly")
    expect(page.get_by_text("£129.99")).to_be_visible()
    snap(page, "lapsed-3-pricing")
    page.goto(f"{live_server.url}/account/")
    expect(page.get_by_text("Your free trial ended on")).to_be_visible()
    snap(page, "lapsed-4-account")
