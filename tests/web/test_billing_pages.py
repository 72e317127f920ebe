"""The paying pages: Subscribe to Checkout, the welcome page that applies the session at
once, the cancel page, Manage billing to the portal, and the account's subscription."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from billing import stripe_gateway
from billing.models import Subscription
from billing.services import subscription_sync
from membership.access import AccessReason, article_access
from tests.billing import conftest as billing_fixtures
from tests.billing.paying import checkout_pay, clock_create, path_of, plan_on_sale, subscribe
from tests.factories import UserFactory
from tests.stripe_sandbox.conftest import advance, http_request
from tests.web.conftest import MARKER, lapsed_reader
from tests.web.html import assert_heading_order, assert_private

# The entitlement paywall alone: the meter is off (its own tests are in test_meter*.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meter_off")]

# The billing tests' sandbox fixtures, for these pages too.
_shared_sandbox = billing_fixtures._shared_sandbox
sandbox_api = billing_fixtures.sandbox_api

SUBSCRIBE = "/billing/subscribe/"
MANAGE = "/billing/manage/"


@pytest.fixture
def on_sale(sandbox_api, plans):  # type: ignore[no-untyped-def]
    """The web fixtures' plans (Everything, Essentials), on sale at the sandbox."""
    return [plan_on_sale(plan) for plan in plans]


def _signed_in(client: Client, reader) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(reader)
    return client


def _subscribe(client: Client, article=None) -> str:  # type: ignore[no-untyped-def]
    form = {"plan": "everything", "period": "monthly"}
    if article is not None:
        form["next"] = article.get_absolute_url()
    response = client.post(SUBSCRIBE, form)
    assert response.status_code == 303, response.content
    return response["Location"]


def test_subscribe_sends_the_reader_to_checkout_and_the_welcome_page_lets_them_read(
    sandbox_api, on_sale, client, premium_article
):
    reader = lapsed_reader()
    _signed_in(client, reader)
    page = client.get(premium_article.get_absolute_url()).content.decode()
    assert f'name="next" value="{premium_article.get_absolute_url()}"' in page

    checkout_url = _subscribe(client, premium_article)
    assert checkout_url.startswith(sandbox_api.url + "/c/pay/cs_test_")
    welcome = checkout_pay(checkout_url)
    assert parse_qs(urlsplit(welcome).query)["next"] == [premium_article.get_absolute_url()]

    response = client.get(path_of(welcome))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Welcome to Masthead" in page
    assert f'href="{premium_article.get_absolute_url()}">Back to your article' in page
    assert_private(response)
    assert_heading_order(response)
    reader.refresh_from_db()
    decision = article_access(reader=reader, article=premium_article)
    assert decision.reason == AccessReason.SUBSCRIPTION
    assert MARKER in client.get(premium_article.get_absolute_url()).content.decode()


def test_the_welcome_page_shows_a_card_trials_end(sandbox_api, on_sale, client):
    _signed_in(client, UserFactory())

    response = client.get(path_of(checkout_pay(_subscribe(client))))

    page = response.content.decode()
    assert "Your free trial runs until" in page
    assert 'href="/">Start reading' in page
    assert Subscription.objects.get().status == "trialing"


def test_another_reader_cannot_use_the_first_readers_session(sandbox_api, on_sale, client):
    first = lapsed_reader()
    welcome = checkout_pay(_subscribe(_signed_in(client, first)))
    other = Client()
    other.force_login(lapsed_reader())

    response = other.get(path_of(welcome))

    assert response.status_code == 403
    assert "This checkout is not yours" in response.content.decode()
    assert not Subscription.objects.exists()


def test_an_unknown_or_missing_session_is_a_404(sandbox_api, client):
    _signed_in(client, lapsed_reader())

    assert client.get("/billing/welcome/?session_id=cs_test_nosuchsession").status_code == 404
    assert client.get("/billing/welcome/").status_code == 404


def test_an_unfinished_checkout_goes_back_to_the_plans(sandbox_api, on_sale, client):
    _signed_in(client, lapsed_reader())
    session_id = _subscribe(client).rsplit("/", 1)[1]

    response = client.get(f"/billing/welcome/?session_id={session_id}", follow=True)

    assert response.redirect_chain == [("/pricing/", 302)]
    assert "This checkout is not finished, so nothing was charged." in response.content.decode()


def test_the_cancel_page_says_nothing_was_charged(client, premium_article):
    response = client.get(f"/billing/cancelled/?next={premium_article.get_absolute_url()}")

    page = response.content.decode()
    assert "Nothing was charged." in page
    assert f'href="{premium_article.get_absolute_url()}">Back to your article' in page
    assert_private(response)
    assert_heading_order(response)
    elsewhere = client.get("/billing/cancelled/?next=https://evil.example/").content.decode()
    assert "evil.example" not in elsewhere


def test_an_anonymous_reader_signs_up_before_subscribing(client, db):
    response = client.post(SUBSCRIBE, {"plan": "everything", "period": "yearly"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/?next=%2Fpricing%2F%3Fperiod%3Dyearly"
    assert client.get(SUBSCRIBE).status_code == 405


def test_a_bad_period_or_plan_goes_back_to_the_plans_with_a_message(sandbox_api, on_sale, client):
    _signed_in(client, lapsed_reader())

    bad_period = client.post(SUBSCRIBE, {"plan": "everything", "period": "weekly"}, follow=True)
    bad_plan = client.post(SUBSCRIBE, {"plan": "nope", "period": "monthly"}, follow=True)

    assert "Choose monthly or yearly billing." in bad_period.content.decode()
    assert bad_plan.redirect_chain == [("/pricing/?period=monthly", 302)]
    assert "There is no plan on sale called" in bad_plan.content.decode()


def test_a_subscriber_who_subscribes_again_is_sent_to_the_account(sandbox_api, on_sale, client):
    reader = lapsed_reader()
    subscribe(sandbox_api.client(), reader, on_sale[0])

    response = _signed_in(client, reader).post(
        SUBSCRIBE, {"plan": "everything", "period": "monthly"}, follow=True
    )

    assert response.redirect_chain == [("/account/", 302)]
    assert "You already have a subscription." in response.content.decode()


def test_manage_billing_opens_the_portal_and_comes_back_to_the_account(
    sandbox_api, on_sale, client
):
    reader = lapsed_reader()
    subscribe(sandbox_api.client(), reader, on_sale[0])

    response = _signed_in(client, reader).post(MANAGE)

    assert response.status_code == 303
    assert response["Location"].startswith(sandbox_api.url + "/p/session/bps_")
    assert f"href='{settings.SITE_URL}/account/'" in http_request(response["Location"])[2]


def test_manage_billing_without_a_billing_account_goes_to_the_plans(client):
    response = _signed_in(client, lapsed_reader()).post(MANAGE, follow=True)

    assert response.redirect_chain == [("/pricing/", 302)]
    assert "You have no billing account yet." in response.content.decode()
    anonymous = Client().post(MANAGE)
    assert anonymous["Location"] == "/accounts/login/?next=%2Faccount%2F"


def test_a_subscriber_who_never_trialled_is_not_offered_the_trial(sandbox_api, on_sale, client):
    reader = UserFactory()
    subscribe(sandbox_api.client(), reader, on_sale[0])

    page = _signed_in(client, reader).get("/account/").content.decode()

    assert "Everything, paid monthly" in page
    assert "free trial" not in page.lower()


def test_the_account_shows_the_plan_and_when_it_renews(sandbox_api, on_sale, client):
    reader = lapsed_reader()
    subscription = subscribe(sandbox_api.client(), reader, on_sale[0])

    response = _signed_in(client, reader).get("/account/")

    page = response.content.decode()
    assert "Everything, paid monthly" in page
    assert f"Renews on</dt>\n      <dd>{subscription.current_period_end:%-d %B %Y}" in page
    assert 'action="/billing/manage/"' in page and "Manage billing" in page
    assert_heading_order(response)


def test_the_account_shows_when_a_cancelled_subscription_ends(sandbox_api, on_sale, client):
    reader = lapsed_reader()
    subscription = subscribe(sandbox_api.client(), reader, on_sale[0])
    portal = stripe_gateway.portal_session_create(
        customer_id=subscription.customer_stripe_id, return_url="http://testserver/account/"
    )
    http_request(
        portal.url, "POST", form={"action": "cancel", "subscription": subscription.stripe_id}
    )
    ending = subscription_sync(subscription_id=subscription.stripe_id)

    page = _signed_in(client, reader).get("/account/").content.decode()

    assert f"Ends on</dt>\n      <dd>{ending.cancel_at:%-d %B %Y}" in page
    assert "Renews on" not in page


def test_a_failed_payment_asks_for_a_new_card_on_the_account_and_the_article(
    sandbox_api, on_sale, client, premium_article, settings
):
    settings.BILLING_GRACE_DAYS = 0
    reader = UserFactory()
    stripe = sandbox_api.client()
    clock, start = clock_create(stripe)
    subscription = subscribe(
        stripe, reader, on_sale[0], card="pm_card_chargeCustomerFail", clock=clock, trial_days=1
    )
    advance(stripe, clock, start + 86400 + 60)
    past_due = subscription_sync(subscription_id=subscription.stripe_id)
    assert past_due.status == "past_due"
    _signed_in(client, reader)

    with time_machine.travel(past_due.payment_failed_at + timedelta(minutes=1)):
        account = client.get("/account/").content.decode()
        article = client.get(premium_article.get_absolute_url()).content.decode()

    assert "did not go through" in account and "Update your card" in account
    assert "Update your card to keep reading" in article and MARKER not in article
    assert f'name="next" value="{premium_article.get_absolute_url()}"' in article
    response = client.post(MANAGE, {"next": premium_article.get_absolute_url()})
    assert response.status_code == 303
    back = f"href='{settings.SITE_URL}{premium_article.get_absolute_url()}'"
    assert back in http_request(response["Location"])[2]


def test_the_welcome_page_waits_for_the_webhook_when_stripe_cannot_be_reached(
    sandbox_api, on_sale, client, settings
):
    _signed_in(client, lapsed_reader())
    welcome = checkout_pay(_subscribe(client))
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    response = client.get(path_of(welcome))

    assert response.status_code == 200
    assert "We are confirming your payment with Stripe" in response.content.decode()
    assert not Subscription.objects.exists()
