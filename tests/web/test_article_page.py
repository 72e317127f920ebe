"""The article page: the full text for readers with access, the teaser and paywall otherwise."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from tests.web.conftest import MARKER
from tests.web.html import assert_heading_order, assert_private, ld_json

# The entitlement paywall alone: the meter is off (its own tests are in test_meter*.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meter_off")]

LEAD = "The opening paragraph sets the scene."


def article_url(article) -> str:
    return reverse("web:article", kwargs={"pk": article.pk})


@pytest.mark.parametrize(
    ("state", "promises"),
    [
        (
            "anonymous",
            ["Sign up to read this article", "Already a member? Sign in", "14 days free"],
        ),
        ("never_trialled", ["Start your 14-day free trial", 'action="/trial/"']),
        ("lapsed", ["Choose a plan to keep reading", "Everything", "Essentials", "Subscribe"]),
    ],
)
def test_a_reader_without_access_gets_the_teaser_and_the_paywall_for_their_reason(
    client_as, premium_article, plans, state, promises
) -> None:
    response = client_as(state).get(article_url(premium_article))

    page = response.content.decode()
    assert response.status_code == 200
    assert MARKER not in page
    assert premium_article.headline in page
    assert premium_article.standfirst in page
    assert "Sam Writer" in page
    assert LEAD in page
    for promise in promises:
        assert promise in page
    assert 'class="paywall paywalled-section"' in page


def test_the_sign_up_and_sign_in_links_bring_the_reader_back_to_the_article(
    client_as, premium_article
) -> None:
    page = client_as("anonymous").get(article_url(premium_article)).content.decode()

    back = f"?next=%2Farticles%2F{premium_article.pk}%2F"
    assert f'href="/accounts/signup/{back}"' in page
    assert f'href="/accounts/login/{back}"' in page


def test_a_trialling_reader_reads_the_whole_article_without_a_paywall(
    client_as, premium_article
) -> None:
    response = client_as("trialling").get(article_url(premium_article))

    page = response.content.decode()
    assert MARKER in page
    assert "A closing paragraph." in page
    assert "paywall-heading" not in page
    assert "Unlocked with your free trial." in page


def test_anyone_reads_a_free_article_in_full(client_as, free_article) -> None:
    page = client_as("anonymous").get(article_url(free_article)).content.decode()

    assert MARKER in page
    assert "paywall-heading" not in page


@pytest.mark.parametrize("state", ["anonymous", "never_trialled", "trialling", "lapsed"])
def test_the_article_page_is_private_to_the_reader_with_sound_headings(
    client_as, premium_article, plans, state
) -> None:
    response = client_as(state).get(article_url(premium_article))

    assert_private(response)
    assert_heading_order(response)


@pytest.mark.parametrize("state", ["anonymous", "never_trialled", "lapsed"])
def test_json_ld_marks_the_paywalled_section_and_never_carries_the_body_when_denied(
    client_as, premium_article, plans, state
) -> None:
    data = ld_json(client_as(state).get(article_url(premium_article)))

    assert data["@type"] == "NewsArticle"
    assert data["headline"] == premium_article.headline
    assert data["isAccessibleForFree"] is False
    assert data["hasPart"] == {
        "@type": "WebPageElement",
        "isAccessibleForFree": False,
        "cssSelector": ".paywalled-section",
    }
    assert "articleBody" not in data


def test_json_ld_carries_the_body_for_a_reader_with_access(client_as, premium_article) -> None:
    response = client_as("trialling").get(article_url(premium_article))

    data = ld_json(response)
    assert data["isAccessibleForFree"] is False
    assert data["hasPart"]["cssSelector"] == ".paywalled-section"
    assert MARKER in data["articleBody"]
    assert 'class="story-body paywalled-section"' in response.content.decode()


def test_json_ld_of_a_free_article_says_it_is_free_and_has_no_paywalled_part(
    client_as, free_article
) -> None:
    data = ld_json(client_as("anonymous").get(article_url(free_article)))

    assert data["isAccessibleForFree"] is True
    assert "hasPart" not in data


def test_json_ld_cannot_break_out_of_its_script_element(client_as, premium_article) -> None:
    premium_article.headline = "</script><script>alert(1)</script>"
    premium_article.save()

    response = client_as("anonymous").get(article_url(premium_article))

    assert "<script>alert(1)" not in response.content.decode()
    assert ld_json(response)["headline"] == "</script><script>alert(1)</script>"


def test_an_unknown_article_is_a_404_in_masthead_look(client_as) -> None:
    response = client_as("anonymous").get("/articles/999999/")

    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


def test_the_payment_failed_paywall_asks_for_a_new_card(rf) -> None:
    page = render_to_string("web/paywall/payment_failed.html", request=rf.get("/articles/1/"))

    assert "Update your card" in page
    assert 'action="/billing/manage/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
