"""Home and title pages: the catalogue, newest first, with premium marks and no bodies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ArticleFactory, TitleFactory
from tests.web.conftest import MARKER
from tests.web.html import assert_heading_order, assert_private

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("state", "call"),
    [
        ("anonymous", "14 days free"),
        ("never_trialled", "Start your 14-day free trial"),
        ("trialling", "14 days left of your free trial"),
        ("lapsed", "See the plans"),
    ],
)
def test_home_shows_titles_latest_articles_and_the_call_for_the_reader(
    client_as, premium_article, free_article, state, call
) -> None:
    response = client_as(state).get("/")

    page = response.content.decode()
    assert "Get all your news in one place" in page
    assert "The Harbour Gazette" in page
    assert premium_article.headline in page
    assert 'class="mark mark-premium"' in page
    assert 'class="mark mark-free"' in page
    assert call in page
    assert MARKER not in page
    assert_private(response)
    assert_heading_order(response)


def test_a_title_page_lists_its_articles_newest_first_ten_a_page(client_as) -> None:
    title = TitleFactory(name="Coastal Courier", slug="coastal-courier")
    now = timezone.now()
    for days_ago in range(12):
        ArticleFactory(
            title=title,
            headline=f"Story {days_ago} days old",
            published_at=now - timedelta(days_ago),
        )
    ArticleFactory(headline="Another title's story")
    client = client_as("anonymous")

    first = client.get("/titles/coastal-courier/").content.decode()
    second = client.get("/titles/coastal-courier/?page=2").content.decode()

    assert first.index("Story 0 days old") < first.index("Story 9 days old")
    assert "Story 10 days old" not in first
    assert "Story 10 days old" in second and "Story 11 days old" in second
    assert "Page 1 of 2" in first
    assert "Another title's story" not in first
    assert MARKER not in first + second


@pytest.mark.parametrize("state", ["anonymous", "lapsed"])
def test_a_title_page_is_private_with_sound_headings(client_as, premium_article, state) -> None:
    response = client_as(state).get("/titles/harbour-gazette/")

    assert "Premium" in response.content.decode()
    assert_private(response)
    assert_heading_order(response)


def test_an_unknown_title_is_a_404(client_as) -> None:
    assert client_as("anonymous").get("/titles/no-such-title/").status_code == 404
