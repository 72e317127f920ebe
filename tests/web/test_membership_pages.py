"""Pricing and account pages (their paying parts: tests/web/test_billing_pages.py)."""

import pytest

from tests.web.conftest import MARKER
from tests.web.html import assert_heading_order, assert_private

pytestmark = pytest.mark.django_db


def test_pricing_lists_plans_in_order_with_monthly_prices_by_default(client_as, plans) -> None:
    response = client_as("never_trialled").get("/pricing/")

    page = response.content.decode()
    assert page.index("Essentials") < page.index("Everything")
    assert "£7.99" in page and "£12.99" in page and "a month" in page
    assert "Every premium title" in page
    assert 'href="?period=monthly" aria-current="page"' in page
    assert page.count('action="/billing/subscribe/"') == 2
    assert 'name="period" value="monthly"' in page
    assert_private(response)
    assert_heading_order(response)


def test_pricing_switches_to_yearly_prices_without_javascript(client_as, plans) -> None:
    page = client_as("never_trialled").get("/pricing/?period=yearly").content.decode()

    assert "£79.99" in page and "£129.99" in page and "a year" in page
    assert 'href="?period=yearly" aria-current="page"' in page
    assert 'name="period" value="yearly"' in page


def test_pricing_falls_back_to_monthly_for_an_unknown_period(client_as, plans) -> None:
    page = client_as("anonymous").get("/pricing/?period=weekly").content.decode()

    assert "£7.99" in page and "a month" in page


def test_an_anonymous_reader_is_asked_to_sign_up_before_subscribing(client_as, plans) -> None:
    page = client_as("anonymous").get("/pricing/?period=yearly").content.decode()

    assert "/billing/subscribe/" not in page
    assert 'href="/accounts/signup/?next=%2Fpricing%2F%3Fperiod%3Dyearly"' in page


def test_account_needs_a_signed_in_reader(client_as) -> None:
    response = client_as("anonymous").get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/"


@pytest.mark.parametrize(
    ("state", "promises"),
    [
        ("never_trialled", ["You have not started your free trial yet.", 'action="/trial/"']),
        ("trialling", ["14 days left", "Free trial: every premium title"]),
        ("lapsed", ["Your free trial ended on", "No premium titles right now."]),
    ],
)
def test_account_shows_email_trial_and_access(client_as, state, promises) -> None:
    response = client_as(state).get("/account/")

    page = response.content.decode()
    assert response.wsgi_request.user.email in page
    for promise in promises:
        assert promise in page
    assert MARKER not in page
    assert_private(response)
    assert_heading_order(response)
