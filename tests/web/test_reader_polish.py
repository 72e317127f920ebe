"""Small things a reader noticed on the pages: one reset link, a lockout that says how long,
honest trial and charge wording, the Titles page, account links, the last day of a comp."""

import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from billing.models import Subscription
from membership.services import comp_grant
from tests.factories import PASSWORD, TitleFactory, UserFactory
from tests.web.conftest import lapsed_reader, trialling_reader

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_sign_in_page_offers_one_password_reset_link(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()

    assert page.count('href="/accounts/password/reset/"') == 1


def test_a_locked_out_reader_is_told_how_long_to_wait(client: Client, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "5/5m/key"}
    reader = UserFactory()
    for _ in range(5):
        client.post("/accounts/login/", {"login": reader.email, "password": "wrong"})

    response = client.post("/accounts/login/", {"login": reader.email, "password": PASSWORD})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in page
    assert "try again in 5 minutes, or reset your password." in page
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_still_gets_the_usual_message(client: Client) -> None:
    reader = UserFactory()

    page = client.post(
        "/accounts/login/", {"login": reader.email, "password": "wrong"}
    ).content.decode()

    assert "Too many failed" not in page and "not correct" in page


def plan_buttons(page: str) -> list[str]:
    return re.findall(r'<button class="button" type="submit">([^<]*)<span', page)


def test_pricing_offers_the_free_trial_where_checkout_will_start_one(client: Client, plans) -> None:
    client.force_login(UserFactory())

    page = client.get("/pricing/").content.decode()

    assert plan_buttons(page) == ["Start your free trial", "Start your free trial"]
    ends = timezone.localdate() + timedelta(days=plans[0].trial_days)
    assert f"Free until {ends:%-d %B %Y}, then £7.99 a month." in page


def test_pricing_says_subscribe_to_a_reader_who_pays_at_once(client: Client, plans) -> None:
    client.force_login(lapsed_reader())

    page = client.get("/pricing/?period=yearly").content.decode()

    assert plan_buttons(page) == ["Subscribe", "Subscribe"]
    assert "Free until" not in page


def test_a_reader_inside_the_free_trial_subscribes_and_is_told_when_paying_starts(
    client: Client, plans
) -> None:
    reader = trialling_reader()
    client.force_login(reader)

    page = client.get("/pricing/").content.decode()

    assert plan_buttons(page) == ["Subscribe", "Subscribe"]
    assert f"Free until {timezone.localtime(reader.trial.ends_at):%-d %B %Y}" in page


def subscription_for(reader, **fields) -> Subscription:  # type: ignore[no-untyped-def]
    return Subscription.objects.create(
        stripe_id=f"sub_{reader.pk}",
        user=reader,
        customer_stripe_id=f"cus_{reader.pk}",
        interval="month",
        current_period_end=timezone.now() + timedelta(days=10),
        synced_at=timezone.now(),
        data={},
        **fields,
    )


def test_cancelling_during_the_card_trial_says_no_charge_at_all(client: Client) -> None:
    reader = UserFactory()
    ends = timezone.now() + timedelta(days=10)
    subscription_for(reader, status="trialing", trial_end=ends, cancel_at=ends)
    client.force_login(reader)

    page = client.get("/account/").content.decode()

    assert "You cancelled during your free trial" in page
    assert "you will not be charged." in page
    assert "charged again" not in page


def test_cancelling_a_paid_subscription_says_no_charge_again(client: Client) -> None:
    reader = UserFactory()
    subscription_for(reader, status="active", cancel_at=timezone.now() + timedelta(days=10))
    client.force_login(reader)

    page = client.get("/account/").content.decode()

    assert "you will not be charged again." in page


def test_the_footer_titles_link_opens_the_list_of_titles(client: Client) -> None:
    TitleFactory(name="The Harbour Gazette", slug="harbour-gazette")

    home = client.get("/").content.decode()
    footer = home.split('<footer class="site-footer">')[1]
    assert '<a href="/titles/">Titles</a>' in footer
    page = client.get("/titles/").content.decode()

    assert "<h1>Titles</h1>" in page
    assert '<a href="/titles/harbour-gazette/">The Harbour Gazette</a>' in page


def test_the_account_page_links_to_changing_email_and_password(client: Client) -> None:
    client.force_login(UserFactory())

    page = client.get("/account/").content.decode()

    for link in ("/accounts/email/", "/accounts/password/change/"):
        assert f'href="{link}"' in page
        assert client.get(link).status_code == 200, link


def test_a_comp_whose_last_day_is_31_december_says_until_31_december(
    client: Client, settings
) -> None:
    reader = UserFactory()
    tz = timezone.get_current_timezone()
    with time_machine.travel(datetime(2026, 12, 20, 12, tzinfo=tz), tick=False):
        comp_grant(
            user=reader,
            ends_at=datetime.combine(date(2027, 1, 1), time.min, tzinfo=tz),
            note="Press pass",
            actor=None,
        )
        client.force_login(reader)

        page = client.get("/account/").content.decode()

    assert "every premium title, until 31 December 2026" in page
    assert "1 January" not in page
