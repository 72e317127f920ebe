"""In Chromium: a reader buys credits through the sandbox's hosted Checkout and unlocks an
article with one; a family owner invites a member from the account page, who signs in
from the emailed link, accepts and reads. The sandbox sends its signed webhooks to the
live server, so the webhook path runs alongside the pages."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from billing.credit_packs import credit_pack_push
from billing.models import CreditPack, PlanPrices
from billing.services import customer_ensure, subscription_sync
from membership.models import CreditAccount, SeatKind
from tests.billing import conftest as billing_fixtures
from tests.billing.delivery import wait_for
from tests.billing.paying import CARD_OK, plan_on_sale
from tests.factories import UserFactory
from tests.groups.conftest import invitation_token
from tests.web.conftest import MARKER, lapsed_reader
from tests.web.test_browser import sign_in, snap

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("meter_off"),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

sandbox_webhooks = billing_fixtures.sandbox_webhooks


@pytest.fixture(autouse=True)
def _site_is_the_live_server(live_server, settings):  # type: ignore[no-untyped-def]
    """Stripe sends the reader back to SITE_URL, which here is the live server."""
    settings.SITE_URL = live_server.url


def test_a_reader_buys_credits_and_unlocks_an_article_with_one(
    sandbox_webhooks: Any, live_server: Any, page: Page, premium_article: Any
) -> None:
    pack = CreditPack.objects.create(name="5 articles", slug="five", credits=5, amount=499)
    credit_pack_push(pack_id=pack.pk)
    reader = lapsed_reader()

    page.goto(f"{live_server.url}/accounts/login/?next=/account/")
    sign_in(page, reader.email)
    page.get_by_role("button", name="Buy 5 articles for £4.99").click()
    expect(page).to_have_url(re.compile(re.escape(f"{sandbox_webhooks.url}/c/pay/cs_test_")))
    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(f"{live_server.url}/account/")))
    wait_for(
        lambda: CreditAccount.objects.filter(user=reader, balance=5).exists(),
        "the credits",
    )

    page.goto(f"{live_server.url}/articles/{premium_article.pk}/")
    expect(page.get_by_text(MARKER)).to_have_count(0)
    unlock = page.get_by_role("button", name="Unlock this article with 1 credit")
    expect(unlock).to_be_visible()
    snap(page, "credits-1-paywall")
    unlock.click()

    expect(page.get_by_text(MARKER)).to_be_visible()
    expect(page.get_by_text("Unlocked with your credit.")).to_be_visible()
    snap(page, "credits-2-unlocked")
    page.goto(f"{live_server.url}/account/")
    expect(page.get_by_text("You have 4 credits")).to_be_visible()
    unlocked = page.locator("ul.unlocked")
    expect(unlocked.get_by_role("link", name=premium_article.headline)).to_be_visible()


def test_a_family_owner_invites_a_member_who_accepts_and_reads(
    sandbox_webhooks: Any, live_server: Any, page: Page, premium_article: Any
) -> None:
    plan = plan_on_sale(seat_kind=SeatKind.FAMILY, min_seats=2, max_seats=6, name="Family")
    owner = UserFactory()
    stripe = sandbox_webhooks.client()
    customer = customer_ensure(user=owner).stripe_id
    card = stripe.v1.payment_methods.attach("pm_card_visa", params={"customer": customer})
    created = stripe.v1.subscriptions.create(
        params={
            "customer": customer,
            "items": [{"price": PlanPrices.objects.get(plan=plan).monthly_price_id, "quantity": 3}],
            "default_payment_method": card.id,
            "metadata": {"user_id": str(owner.pk)},
        }
    )
    subscription_sync(subscription_id=created.id)
    friend = UserFactory(email="friend@example.com")

    page.goto(f"{live_server.url}/accounts/login/?next=/account/")
    sign_in(page, owner.email)
    expect(page.get_by_text("0 of 3 seats")).to_be_visible()
    page.get_by_label("Invite by email").fill(friend.email)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to friend@example.com.")).to_be_visible()
    expect(page.get_by_text("1 of 3 seats")).to_be_visible()
    snap(page, "family-1-invited")
    page.context.clear_cookies()

    page.goto(f"{live_server.url}/groups/join/{invitation_token(friend.email)}/")
    expect(page.get_by_text(f"{owner.email} invites you")).to_be_visible()
    page.locator("#main").get_by_role("link", name="Sign in").click()
    sign_in(page, friend.email)
    accept = page.get_by_role("button", name="Accept the invitation")
    expect(accept).to_be_visible()
    snap(page, "family-2-invitation")
    accept.click()

    expect(page.get_by_text(f"You share the Family of {owner.email}")).to_be_visible()
    page.goto(f"{live_server.url}/articles/{premium_article.pk}/")
    expect(page.get_by_text(MARKER)).to_be_visible()
