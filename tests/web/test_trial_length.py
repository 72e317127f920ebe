"""Every page that offers the free trial states its length from ``TRIAL_DAYS``."""

import re

import pytest

# The entitlement paywall alone: the meter is off (its own tests are in test_meter*.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meter_off")]

HARD_CODED = re.compile(r"fourteen|14[- ]day", re.IGNORECASE)


@pytest.mark.parametrize(
    ("state", "path", "offer"),
    [
        ("anonymous", "/", '<h2 id="call-heading">21 days free</h2>'),
        ("anonymous", "/", "One app. One membership. 21 days free."),
        ("anonymous", "/pricing/", "21 days free for new members."),
        ("anonymous", "/accounts/login/", "Sign up: 21 days free"),
        ("anonymous", "/accounts/signup/", '<p class="paywall-offer">21 days free</p>'),
        ("anonymous", "/articles/{premium}/", '<p class="paywall-offer">21 days free</p>'),
        ("never_trialled", "/articles/{premium}/", "Start your 21-day free trial"),
    ],
)
def test_the_trial_length_comes_from_trial_days(
    settings, client_as, premium_article, state, path, offer
) -> None:
    settings.TRIAL_DAYS = 21

    response = client_as(state).get(path.format(premium=premium_article.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert offer in page
    assert not HARD_CODED.search(page)
