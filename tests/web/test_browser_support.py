"""The support desk and search engines in Chromium: explaining a member's access from their
admin page, admin lists that fit a 1280 px screen, and the article page's SEO markup."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.models import Customer, Subscription
from membership.services import comp_grant, trial_start
from tests.factories import PASSWORD, StaffFactory, TitleFactory, UserFactory
from tests.web.conftest import MARKER

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("meter_off"),  # the entitlement paywall (test_browser_meter.py)
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LONG_EMAIL = "a.rather.long.reader.name+newsletters@subscriber-mail.example.co.uk"


def admin_sign_in(page: Page, base: str) -> None:
    staff = StaffFactory(email="desk@example.com")
    page.goto(f"{base}/admin/")  # the admin sends staff to the reader sign-in, and back
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Masthead admin")).to_be_visible()


def no_sideways_scroll(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def hidden_columns(page: Page) -> int:
    """Return how many pixels of the change list's table are scrolled out of sight (the
    admin wraps it in a box that scrolls sideways rather than the page)."""
    return int(
        page.evaluate(
            "(() => { const box = document.querySelector('#changelist .results');"
            " return box ? box.scrollWidth - box.clientWidth : 0; })()"
        )
    )


def test_support_explains_a_members_access_from_their_page(
    live_server, page: Page, premium_article
) -> None:
    member = UserFactory(email=LONG_EMAIL)
    trial_start(user=member)
    admin_sign_in(page, live_server.url)

    page.goto(f"{live_server.url}/admin/accounts/user/")
    page.get_by_role("link", name=LONG_EMAIL).click()
    page.get_by_role("link", name="Explain access").click()
    page.get_by_label("Article number").fill(str(premium_article.pk))
    page.get_by_role("button", name="Explain").click()

    decision = page.locator("#access-decision")
    expect(decision.get_by_role("heading")).to_contain_text("Decision: can read · Free trial")
    expect(decision).to_contain_text("covering The Harbour Gazette")
    rows = page.locator("#access-entitlements tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Free trial")
    expect(rows.first).to_contain_text("every title")
    timeline = page.locator("#access-timeline tbody tr")
    expect(timeline).to_have_count(2)
    expect(timeline.nth(0)).to_contain_text("Started")
    expect(timeline.nth(1)).to_contain_text("Granted")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "admin-explain-access.png", full_page=True)
    assert no_sideways_scroll(page) <= 0

    page.get_by_label("Article number").fill("")
    page.get_by_label("Title").select_option(label="The Harbour Gazette")
    page.get_by_role("button", name="Explain").click()
    expect(decision).to_contain_text("Any premium article of The Harbour Gazette")


def test_the_support_lists_fit_a_1280_pixel_screen(live_server, page: Page) -> None:
    reader = UserFactory(email=LONG_EMAIL, full_name="Alexandra Montgomery-Fitzwilliam")
    trial_start(user=reader)
    comp_grant(
        user=reader,
        ends_at=timezone.now() + timedelta(days=40),
        note="Press pass for the regional awards",
        actor=None,
        titles=[TitleFactory(name="The Northern Agricultural and Maritime Chronicle")],
    )
    customer = Customer.objects.create(user=reader, stripe_id="cus_" + "Q" * 14)
    Subscription.objects.create(
        stripe_id="sub_1QxLongStripeIdentifier",
        user=reader,
        customer_stripe_id=customer.stripe_id,
        interval="month",
        status="past_due",
        current_period_end=timezone.now() + timedelta(days=20),
        cancel_at=timezone.now() + timedelta(days=20),
        payment_failed_at=timezone.now(),
        synced_at=timezone.now(),
        data={},
    )
    admin_sign_in(page, live_server.url)

    failures = []
    for model in (
        "accounts/user",
        "membership/entitlement",
        "membership/trial",
        "billing/customer",
        "billing/subscription",
        "billing/webhookevent",
    ):
        page.goto(f"{live_server.url}/admin/{model}/")
        expect(page.locator("#changelist")).to_be_visible()
        page.screenshot(path=SHOTS / f"admin-list-{model.replace('/', '-')}.png")
        if no_sideways_scroll(page) > 0 or hidden_columns(page) > 0:
            failures.append(f"{model}: {hidden_columns(page)} px of columns out of sight")
        assert "member #" not in page.content(), model
    assert failures == [], "; ".join(failures)


def test_the_article_page_marks_the_paywalled_part_for_search_engines(
    live_server, page: Page, premium_article, free_article
) -> None:
    response = page.goto(f"{live_server.url}/articles/{premium_article.pk}/")
    assert response is not None and MARKER not in response.text()

    data = json.loads(page.locator('script[type="application/ld+json"]').text_content() or "")
    assert data["isAccessibleForFree"] is False
    part = data["hasPart"]
    assert part["@type"] == "WebPageElement" and part["isAccessibleForFree"] is False
    gated = page.locator(part["cssSelector"])
    expect(gated).to_have_count(1)
    expect(gated).to_be_visible()
    expect(gated.get_by_role("heading", name="Sign up to read this article")).to_be_visible()
    canonical = page.locator('link[rel="canonical"]').get_attribute("href")
    assert canonical == data["mainEntityOfPage"]
    assert canonical is not None and canonical.endswith(f"/articles/{premium_article.pk}/")
    og = page.locator('meta[property="og:title"]').get_attribute("content")
    assert og == premium_article.headline
    description = page.locator('meta[name="description"]').get_attribute("content")
    assert description == premium_article.standfirst
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon is not None and page.request.get(live_server.url + icon).ok

    header = page.locator(".site-header").bounding_box()
    kicker = page.locator(".story .kicker").bounding_box()
    assert header and kicker and kicker["y"] - (header["y"] + header["height"]) >= 16

    page.goto(f"{live_server.url}/articles/{free_article.pk}/")
    free = json.loads(page.locator('script[type="application/ld+json"]').text_content() or "")
    assert free["isAccessibleForFree"] is True and "hasPart" not in free
