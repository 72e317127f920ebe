"""The one-click trial: back on the article reading it, a friendly word on a second try."""

import pytest
from django.test import Client
from django.urls import reverse

from membership.models import Trial
from tests.factories import UserFactory
from tests.web.conftest import MARKER

# The entitlement paywall alone: the meter is off (its own tests are in test_meter*.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meter_off")]

TRIAL_URL = "/trial/"


def test_starting_the_trial_lands_the_reader_back_on_the_article_in_full(
    client_as, premium_article
) -> None:
    client = client_as("never_trialled")
    article_path = reverse("web:article", kwargs={"pk": premium_article.pk})

    response = client.post(TRIAL_URL, {"next": article_path}, follow=True)

    assert response.redirect_chain == [(article_path, 302)]
    page = response.content.decode()
    assert MARKER in page
    assert "Your 14-day free trial has started." in page
    assert Trial.objects.count() == 1


@pytest.mark.parametrize("state", ["trialling", "lapsed"])
def test_a_second_trial_is_refused_with_a_friendly_message(
    client_as, premium_article, plans, state
) -> None:
    client = client_as(state)
    article_path = reverse("web:article", kwargs={"pk": premium_article.pk})

    response = client.post(TRIAL_URL, {"next": article_path}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [(article_path, 302)]
    assert "You have already had your free trial." in response.content.decode()
    assert Trial.objects.count() == 1


def test_an_anonymous_reader_is_sent_to_sign_up_and_then_back(client_as, premium_article) -> None:
    article_path = reverse("web:article", kwargs={"pk": premium_article.pk})

    response = client_as("anonymous").post(TRIAL_URL, {"next": article_path})

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/signup/?next=%2Farticles%2F{premium_article.pk}%2F"
    assert Trial.objects.count() == 0


def test_a_next_address_off_the_site_is_ignored(client_as) -> None:
    response = client_as("never_trialled").post(TRIAL_URL, {"next": "https://evil.example/"})

    assert response["Location"] == "/account/"


def test_the_trial_form_needs_its_csrf_token(db) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())

    response = client.post(TRIAL_URL, {"next": "/"})

    assert response.status_code == 403
    assert Trial.objects.count() == 0


def test_the_paywall_trial_form_carries_its_csrf_token(client_as, premium_article) -> None:
    client = client_as("never_trialled")

    page = client.get(reverse("web:article", kwargs={"pk": premium_article.pk})).content.decode()

    form = page[page.index('action="/trial/"') :]
    assert form.index('name="csrfmiddlewaretoken"') < form.index("</form>")


def test_the_trial_is_started_by_post_only(client_as) -> None:
    assert client_as("never_trialled").get(TRIAL_URL).status_code == 405
    assert Trial.objects.count() == 0
