"""The pages a reader sees outside what they may read: a subscriber outside their plan
(upgrade, switched in one step), an unverified address (verify_email, allauth's resend), a
trial already used on another account, a failed payment."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from billing.models import Customer
from membership.models import Plan, Title, Trial
from membership.services import trial_start
from tests.billing import conftest as billing_fixtures
from tests.billing.paying import plan_on_sale, subscribe
from tests.factories import ArticleFactory, TitleFactory, UserFactory
from tests.stripe_sandbox.conftest import http_request
from tests.web.conftest import MARKER
from tests.web.html import assert_heading_order, assert_private

# The entitlement paywall alone: the meter is off (its own tests are in test_meter*.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meter_off")]

_shared_sandbox = billing_fixtures._shared_sandbox
sandbox_api = billing_fixtures.sandbox_api

SWITCH = "/billing/switch/"


def titled_plan(name: str, titles: list[Title], order: int) -> Plan:
    plan = plan_on_sale(name=name, all_titles=False, display_order=order)
    plan.titles.set(titles)
    return plan


@pytest.fixture
def outside(sandbox_api: Any) -> dict[str, Any]:
    """A reader subscribed to a plan for The Courier, and an article of The Herald."""
    courier, herald = TitleFactory(name="The Courier"), TitleFactory(name="The Herald")
    courier_plan = titled_plan("Courier only", [courier], 0)
    herald_plan = titled_plan("Herald only", [herald], 1)
    reader = UserFactory()
    subscription = subscribe(sandbox_api.client(), reader, courier_plan)
    return {
        "reader": reader,
        "subscription": subscription,
        "herald_plan": herald_plan,
        "article": ArticleFactory(title=herald),
    }


def signed_in(client: Client, reader: User) -> Client:
    client.force_login(reader)
    return client


def test_a_subscriber_outside_their_plan_is_offered_the_plans_that_cover_the_title(outside, client):
    response = signed_in(client, outside["reader"]).get(outside["article"].get_absolute_url())
    page = response.content.decode()

    assert "Your plan does not cover The Herald" in page
    assert "Switch to Herald only" in page
    assert f'name="plan" value="{outside["herald_plan"].slug}"' in page
    assert "Courier only</h3>" not in page
    assert "free trial has ended" not in page and "Start your" not in page
    assert MARKER not in page
    assert_heading_order(response)
    assert_private(response)


def test_switch_sends_the_subscriber_to_the_portal_confirmation_and_back_to_the_article(
    outside, sandbox_api, client
):
    article_path = outside["article"].get_absolute_url()
    response = signed_in(client, outside["reader"]).post(
        SWITCH, {"plan": outside["herald_plan"].slug, "next": article_path}
    )

    assert response.status_code == 303
    portal = response["Location"]
    assert portal.startswith(sandbox_api.url + "/p/session/bps_")
    _, _, page = http_request(portal)
    assert "Confirm your update" in page and "Herald only" in page
    status, headers, _ = http_request(
        portal,
        "POST",
        form={"action": "confirm_update", "subscription": outside["subscription"].stripe_id},
    )
    assert (status, headers["location"]) == (303, settings.SITE_URL + article_path)


def test_switch_without_a_subscription_goes_to_the_plans_with_a_message(sandbox_api, client):
    plan = plan_on_sale(name="Everything")
    reader = UserFactory()

    response = signed_in(client, reader).post(SWITCH, {"plan": plan.slug}, follow=True)

    assert response.redirect_chain[-1][0] == "/pricing/"
    assert "You have no subscription to change" in response.content.decode()
    assert not Customer.objects.exists()


def test_switch_to_an_unknown_plan_goes_back_with_a_message(outside, client):
    path = outside["article"].get_absolute_url()
    response = signed_in(client, outside["reader"]).post(
        SWITCH, {"plan": "no-such-plan", "next": path}, follow=True
    )

    assert response.redirect_chain[-1][0] == path
    assert "There is no plan on sale called" in response.content.decode()


def test_switch_asks_an_anonymous_reader_to_sign_in(db, client):
    response = client.post(SWITCH, {"plan": "everything", "next": "/articles/1/"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_switch_refuses_get(db, client):
    assert client.get(SWITCH).status_code == 405


def test_an_unverified_reader_is_asked_to_verify_and_gets_the_email_again(client):
    reader = UserFactory(email_verified=False)
    article = ArticleFactory()
    signed_in(client, reader)

    page = client.get(article.get_absolute_url()).content.decode()
    refused = client.post("/trial/", {"next": article.get_absolute_url()}, follow=True)
    mail.outbox.clear()
    resent = client.post("/accounts/email/", {"email": reader.email, "action_send": ""})

    assert "Verify your email address to start your 14-day free trial" in page
    assert 'action="/accounts/email/"' in page and 'name="action_send"' in page
    assert "Verify your email address to start your free trial" in refused.content.decode()
    assert not Trial.objects.exists()
    assert resent.status_code == 302
    assert [message.to for message in mail.outbox] == [[reader.email]]
    assert "/accounts/confirm-email/" in mail.outbox[0].body
    landing = client.get(resent["Location"])
    assert landing.status_code == 200 and reader.email in landing.content.decode()


def test_the_account_page_asks_an_unverified_reader_to_verify(client):
    reader = UserFactory(email_verified=False)

    page = signed_in(client, reader).get("/account/").content.decode()

    assert "Verify your email address to start your 14-day free trial" in page
    assert "Start your 14-day free trial</button>" not in page


@pytest.fixture
def second_account() -> User:
    """A reader whose address had its trial on an account since deleted."""
    first = UserFactory(email="jo.reader@gmail.com")
    trial_start(user=first)
    first.delete()
    return UserFactory(email="joreader+news@gmail.com")


def test_a_trial_had_on_an_earlier_account_is_used_on_the_paywall_account_page_and_me(
    second_account, client
):
    article = ArticleFactory()
    signed_in(client, second_account)

    paywall = client.get(article.get_absolute_url()).content.decode()
    account = client.get("/account/").content.decode()
    home = client.get("/").content.decode()
    me = client.get("/api/v1/me/").json()

    assert "You have already used your free trial." in paywall
    assert "free trial has ended" not in paywall
    assert "Your free trial is already used" in account
    for page in (paywall, account, home):
        assert "Start your 14-day free trial" not in page
    assert me["trial"] is None and me["trial_eligibility"] == "used"


def test_an_address_change_to_one_that_had_a_trial_counts_as_used(client):
    """The account's own column is not set (the address changed after sign-up): the
    paywall still asks the trials by the address, as trial_start does."""
    first = UserFactory(email="sam@example.com")
    trial_start(user=first)
    first.delete()
    reader = UserFactory(email="other@example.com")
    User.objects.filter(pk=reader.pk).update(email="sam@example.com")
    reader.refresh_from_db()
    assert reader.trial_used_at is None

    page = signed_in(client, reader).get(ArticleFactory().get_absolute_url()).content.decode()

    assert "You have already used your free trial." in page


def test_the_api_paywall_for_a_failed_payment_names_the_fix(db, client):
    reader = UserFactory()
    User.objects.filter(pk=reader.pk).update(
        trial_used_at=timezone.now() - timedelta(days=40),
        payment_issue_since=timezone.now() - timedelta(days=9),
    )
    reader.refresh_from_db()

    data = signed_in(client, reader).get(f"/api/v1/articles/{ArticleFactory().pk}/").json()

    assert data["access"] == {"granted": False, "reason": "payment_failed"}
    assert "update your card" in data["paywall"]["message"]
    assert data["paywall"]["actions"] == [
        {
            "kind": "update_card",
            "label": "Update your card",
            "method": "POST",
            "url": "/api/v1/billing/portal/",
            "params": {},
        }
    ]
