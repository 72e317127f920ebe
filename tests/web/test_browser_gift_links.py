"""A subscriber gives a gift link in Chromium; someone without an account opens it."""

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from membership.models import EntitlementSource, GiftLink
from tests.factories import ArticleFactory, EntitlementFactory, UserFactory
from tests.web.conftest import MARKER
from tests.web.test_browser import sign_in, snap

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture(autouse=True)
def _no_meter(settings: Any) -> None:
    """The meter gives no free article: what opens the body is the gift link alone."""
    settings.METER_ANONYMOUS = 0
    settings.METER_REGISTERED = 0


def test_a_subscriber_gifts_an_article_and_a_stranger_reads_it_then_sees_the_wall_elsewhere(
    live_server,
    page: Page,
    browser: Browser,
    browser_context_args: dict[str, Any],
    premium_article,
    settings,
) -> None:
    settings.SITE_URL = live_server.url
    giver = UserFactory()
    EntitlementFactory(
        user=giver,
        source=EntitlementSource.SUBSCRIPTION,
        starts_at=datetime(2020, 1, 1, tzinfo=UTC),
        ends_at=datetime(2035, 1, 1, tzinfo=UTC),
    )
    page.goto(f"{live_server.url}/accounts/login/?next=/articles/{premium_article.pk}/")
    sign_in(page, giver.email)
    page.get_by_role("button", name="Gift this article").click()

    expect(page.get_by_text("is ready: copy it below")).to_be_visible()
    expect(page.get_by_text("9 of 10 gift links left this month")).to_be_visible()
    url = page.get_by_role("textbox", name="Gift link").input_value()
    assert url.startswith(f"{live_server.url}/a/{premium_article.pk}/?gift=")
    snap(page, "gift-1-giver-account")

    stranger = browser.new_context(**browser_context_args).new_page()
    response = stranger.goto(url)

    assert response is not None and response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(stranger.get_by_text(MARKER)).to_be_visible()
    expect(stranger.get_by_text("A gift from a Masthead member")).to_be_visible()
    expect(
        stranger.get_by_role("heading", name="Enjoyed this gift? Sign up to keep reading")
    ).to_be_visible()
    snap(stranger, "gift-2-recipient-reads")
    stranger.reload()  # reopening on the same device is free
    expect(stranger.get_by_text(MARKER)).to_be_visible()
    assert GiftLink.objects.get().opens == 1

    # The same token on another article opens nothing there, and says so.
    other = ArticleFactory(title=premium_article.title, headline="Another harbour story")
    stranger.goto(url.replace(f"/a/{premium_article.pk}/", f"/a/{other.pk}/"))
    expect(stranger.get_by_text("This gift link is for another article.")).to_be_visible()
    expect(stranger.get_by_role("heading", name="Sign up to read this article")).to_be_visible()
    assert MARKER not in stranger.content()
    snap(stranger, "gift-3-other-article")
    # Without the link, the article itself is behind the wall again.
    stranger.goto(f"{live_server.url}/articles/{premium_article.pk}/")
    expect(stranger.get_by_role("heading", name="Sign up to read this article")).to_be_visible()
    assert MARKER not in stranger.content()
    stranger.context.close()
