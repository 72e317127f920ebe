"""Paying in Chromium: a lapsed reader subscribes through the sandbox's hosted Checkout and
reads; a subscriber cancels in the portal and Account says when it ends. The sandbox sends
its signed webhooks to the live server, so the webhook path runs alongside the pages."""

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from billing.models import Subscription, WebhookEvent
from tests.billing import conftest as billing_fixtures
from tests.billing.paying import CARD_OK, plan_on_sale, subscribe
from tests.factories import TitleFactory, UserFactory
from tests.web.conftest import MARKER, lapsed_reader
from tests.web.test_browser import SHOTS, WIDTHS, sign_in, snap

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("meter_off"),  # the entitlement paywall (test_browser_meter.py)
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

# The billing tests' sandbox that delivers webhooks to the live server.
sandbox_webhooks = billing_fixtures.sandbox_webhooks


@pytest.fixture(autouse=True)
def _site_is_the_live_server(live_server, settings):  # type: ignore[no-untyped-def]
    """Stripe sends the reader back to SITE_URL, which here is the live server."""
    settings.SITE_URL = live_server.url


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll until ``check()`` is truthy: webhooks arrive on their own time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def snap_stripe(page: Page, name: str) -> None:
    """Save a page hosted by the sandbox (Stripe's look is not Masthead's to check)."""
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(WIDTHS["desktop"])


def test_a_lapsed_reader_subscribes_through_checkout_and_reads(
    sandbox_webhooks, live_server, page: Page, premium_article, plans
) -> None:
    for plan in plans:
        plan_on_sale(plan)
    reader = lapsed_reader()
    article_url = f"{live_server.url}/articles/{premium_article.pk}/"

    page.goto(f"{live_server.url}/accounts/login/?next=/articles/{premium_article.pk}/")
    sign_in(page, reader.email)
    expect(page.get_by_role("heading", name="Choose a plan to keep reading")).to_be_visible()
    snap(page, "subscribe-1-plans")
    page.get_by_role("button", name="Subscribe to Everything, monthly").click()

    expect(page).to_have_url(re.compile(re.escape(f"{sandbox_webhooks.url}/c/pay/cs_test_")))
    expect(page.get_by_text("Total due today: £12.99")).to_be_visible()
    page.get_by_label("Card number").fill(CARD_OK)
    snap_stripe(page, "subscribe-2-checkout")
    page.get_by_role("button", name="Subscribe", exact=True).click()

    expect(page.get_by_role("heading", name="Welcome to Masthead")).to_be_visible()
    snap(page, "subscribe-3-welcome")
    page.get_by_role("link", name="Back to your article").click()

    expect(page).to_have_url(article_url)
    expect(page.get_by_text(MARKER)).to_be_visible()
    snap(page, "subscribe-4-reading")
    completed = WebhookEvent.objects.filter(type="checkout.session.completed")
    wait_for(lambda: completed.filter(status="succeeded").exists(), "the checkout webhook")
    assert Subscription.objects.get(user=reader).status == "active"


def test_a_subscriber_cancels_in_the_portal_and_account_shows_when_it_ends(
    sandbox_webhooks, live_server, page: Page, plans
) -> None:
    reader = UserFactory()
    subscription = subscribe(sandbox_webhooks.client(), reader, plan_on_sale(plans[0]))

    page.goto(f"{live_server.url}/accounts/login/?next=/account/")
    sign_in(page, reader.email)
    expect(page.get_by_text("Renews on")).to_be_visible()
    snap(page, "portal-1-account")
    page.get_by_role("button", name="Manage billing").click()

    expect(page.get_by_role("heading", name="Your subscription")).to_be_visible()
    snap_stripe(page, "portal-2-portal")
    page.get_by_role("button", name="Cancel plan").click()
    expect(page.get_by_text("Cancels on")).to_be_visible()
    snap_stripe(page, "portal-3-cancelled")
    wait_for(
        lambda: Subscription.objects.filter(pk=subscription.pk, cancel_at__isnull=False).exists(),
        "the cancellation webhook",
    )
    page.get_by_role("link", name="Return").click()

    expect(page).to_have_url(f"{live_server.url}/account/")
    expect(page.get_by_text("Ends on")).to_be_visible()
    expect(page.get_by_text("Renews on")).to_have_count(0)
    snap(page, "portal-4-account-ending")


def test_a_subscriber_outside_their_plan_switches_in_one_step_and_reads(
    sandbox_webhooks, live_server, page: Page, premium_article, plans
) -> None:
    everything, essentials = (plan_on_sale(plan) for plan in plans)
    essentials.all_titles = False
    essentials.save()
    essentials.titles.set([TitleFactory(name="The Other Paper")])
    reader = UserFactory()
    subscription = subscribe(sandbox_webhooks.client(), reader, essentials)
    article_url = f"{live_server.url}/articles/{premium_article.pk}/"

    page.goto(f"{live_server.url}/accounts/login/?next=/articles/{premium_article.pk}/")
    sign_in(page, reader.email)
    expect(
        page.get_by_role("heading", name="Your plan does not cover The Harbour Gazette")
    ).to_be_visible()
    assert MARKER not in page.content()
    snap(page, "upgrade-1-paywall")
    page.get_by_role("button", name="Switch to Everything").click()

    expect(page.get_by_role("heading", name="Confirm your update")).to_be_visible()
    snap_stripe(page, "upgrade-2-confirm")
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(article_url)
    wait_for(
        lambda: Subscription.objects.filter(pk=subscription.pk, plan=everything).exists(),
        "the plan switch webhook",
    )
    page.reload()
    expect(page.get_by_text(MARKER)).to_be_visible()
    snap(page, "upgrade-3-reading")
