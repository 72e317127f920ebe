"""Gifts and offers in Chromium, with the sandbox delivering signed webhooks to the live
server: a buyer gives three months of a plan and pays on the hosted page; the friend opens
the code from their email, redeems it and reads; a reader claims an offer."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from billing.models import Offer, OneTimePayment, Subscription, WebhookEvent
from billing.offers import offer_push
from gifts.models import Gift
from membership.models import Entitlement, OutboxMessage
from tests.billing import conftest as billing_fixtures
from tests.billing.paying import CARD_OK, plan_on_sale
from tests.factories import UserFactory
from tests.web.conftest import MARKER
from tests.web.test_browser import sign_in, snap
from tests.web.test_browser_billing import snap_stripe, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

sandbox_webhooks = billing_fixtures.sandbox_webhooks
CODE = re.compile(r"GIFT-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")


@pytest.fixture(autouse=True)
def _site_is_the_live_server(live_server: Any, settings: Any) -> None:
    settings.SITE_URL = live_server.url


def test_a_buyer_gives_three_months_and_the_friend_redeems_and_reads(
    sandbox_webhooks: Any, live_server: Any, page: Page, premium_article: Any, plans: Any
) -> None:
    for plan in plans:
        plan_on_sale(plan)
    buyer = UserFactory()

    page.goto(f"{live_server.url}/accounts/login/?next=/gifts/")
    sign_in(page, buyer.email)
    expect(page.get_by_role("heading", name="Give Masthead")).to_be_visible()
    page.get_by_label("Plan").select_option(label="Everything")
    page.get_by_label("Length").select_option(label="3 months")
    page.get_by_label("Their email (optional)").fill("friend@example.com")
    page.get_by_label("A message (optional)").fill("Happy birthday!")
    snap(page, "gift-1-choose")
    page.get_by_role("button", name="Buy the gift").click()

    expect(page).to_have_url(re.compile(re.escape(f"{sandbox_webhooks.url}/c/pay/cs_test_")))
    expect(page.get_by_text("Total due today: £38.97")).to_be_visible()
    page.get_by_label("Card number or IBAN").fill(CARD_OK)
    snap_stripe(page, "gift-2-checkout")
    page.get_by_role("button", name="Pay", exact=True).click()

    expect(page.get_by_role("heading", name="Thank you for your gift")).to_be_visible()
    expect(page.get_by_text("The gift code is in your inbox")).to_be_visible()
    snap(page, "gift-3-thanks")
    wait_for(
        lambda: WebhookEvent.objects.filter(
            type="checkout.session.completed", status="succeeded"
        ).exists(),
        "the payment webhook",
    )
    assert Gift.objects.count() == 1 and OneTimePayment.objects.get().status == "paid"
    mail = OutboxMessage.objects.get(to="friend@example.com")
    code = CODE.findall(mail.body)[0]
    assert "Happy birthday!" in mail.body

    page.goto(f"{live_server.url}/accounts/logout/")
    page.get_by_role("button", name="Sign out").click()
    friend = UserFactory(email="friend@example.com")
    page.goto(f"{live_server.url}/accounts/login/?next=/gifts/redeem/")
    sign_in(page, friend.email)
    page.get_by_label("Gift code").fill(code.lower())
    page.get_by_role("button", name="Check the code").click()
    expect(page.get_by_text("Everything for 3 months")).to_be_visible()
    expect(page.get_by_text("Happy birthday!")).to_be_visible()
    snap(page, "gift-4-redeem")
    page.get_by_role("button", name="Redeem this gift").click()

    expect(page).to_have_url(f"{live_server.url}/account/")
    expect(page.get_by_text("Your gift is redeemed")).to_be_visible()
    snap(page, "gift-5-account")
    assert Entitlement.objects.get(user=friend).source == "gift"
    page.goto(f"{live_server.url}/articles/{premium_article.pk}/")
    expect(page.get_by_text(MARKER)).to_be_visible()

    page.goto(f"{live_server.url}/gifts/redeem/?code={code}")
    expect(page.get_by_text("This gift has already been redeemed.")).to_be_visible()


def test_a_reader_claims_an_offer_and_pays_the_discounted_price(
    sandbox_webhooks: Any, live_server: Any, page: Page, plans: Any
) -> None:
    everything = plan_on_sale(plans[0])
    everything.trial_days = 0
    everything.save()
    offer = Offer.objects.create(
        name="Half price", code="HALFTEST", percent_off=50, duration="once"
    )
    offer_push(offer_id=offer.pk)
    reader = UserFactory(trial_used_at=None)

    page.goto(f"{live_server.url}/accounts/login/?next=/offers/halftest/")
    sign_in(page, reader.email)
    expect(page.get_by_role("heading", name="Half price")).to_be_visible()
    expect(page.get_by_text("50% off the first payment.", exact=True)).to_be_visible()
    snap(page, "offer-1-page")
    page.get_by_role("button", name="Subscribe with HALFTEST to Everything").click()

    expect(page).to_have_url(re.compile(re.escape(f"{sandbox_webhooks.url}/c/pay/cs_test_")))
    expect(page.get_by_text("HALFTEST")).to_be_visible()
    expect(page.get_by_text("Total due today: £6.49")).to_be_visible()
    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_role("button", name="Subscribe", exact=True).click()

    expect(page.get_by_role("heading", name="Welcome to Masthead")).to_be_visible()
    wait_for(lambda: Subscription.objects.filter(user=reader).exists(), "the subscription")
