"""What search engines and link previews read: robots.txt, the sitemap, canonical and Open
Graph addresses from SITE_URL (never the request's Host), descriptions, the favicon."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import ArticleFactory, TitleFactory
from tests.web.conftest import MARKER
from tests.web.html import ld_json

pytestmark = pytest.mark.django_db

SITE = "https://read.masthead.example"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(autouse=True)
def _site_url(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]


def meta(page: str, attribute: str, name: str) -> str:
    found = re.findall(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', page)
    assert len(found) == 1, (name, found)
    return found[0]


def canonical(page: str) -> str:
    found = re.findall(r'<link rel="canonical" href="([^"]*)">', page)
    assert len(found) == 1, found
    return found[0]


def test_robots_txt_keeps_crawlers_off_private_pages_and_names_the_sitemap(
    client: Client,
) -> None:
    response = client.get("/robots.txt", HTTP_HOST="evil.example")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text.startswith("User-agent: *\n")
    for private in ("/admin/", "/account/", "/api/", "/billing/"):
        assert f"Disallow: {private}\n" in text
    assert f"Sitemap: {SITE}/sitemap.xml\n" in text
    assert "evil.example" not in text


def test_the_sitemap_lists_titles_and_articles_with_lastmod_at_site_url(client: Client) -> None:
    title = TitleFactory(slug="harbour-gazette")
    older = ArticleFactory(title=title, published_at=timezone.now() - timedelta(days=3))
    newest = ArticleFactory(title=title, published_at=timezone.now() - timedelta(days=1))
    empty = TitleFactory(slug="quiet-title")

    response = client.get("/sitemap.xml", HTTP_HOST="evil.example")

    assert response.status_code == 200
    root = ET.fromstring(response.content)
    entries = {
        url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
        for url in root.findall("s:url", NS)
    }
    assert entries[f"{SITE}/titles/harbour-gazette/"] == newest.published_at.date().isoformat()
    assert entries[f"{SITE}/titles/quiet-title/"] == empty.created_at.date().isoformat()
    assert entries[f"{SITE}/articles/{older.pk}/"] == older.published_at.date().isoformat()
    assert entries[f"{SITE}/articles/{newest.pk}/"] == newest.published_at.date().isoformat()
    assert all(loc.startswith(SITE + "/") for loc in entries)


def test_an_article_page_has_canonical_open_graph_and_its_standfirst_as_description(
    client: Client,
) -> None:
    article = ArticleFactory(
        headline="Council approves the harbour plan",
        standfirst="Residents are split over the scheme.",
        section="Politics",
    )

    page = client.get(f"/articles/{article.pk}/", HTTP_HOST="evil.example").content.decode()

    url = f"{SITE}/articles/{article.pk}/"
    assert canonical(page) == url
    assert meta(page, "name", "description") == "Residents are split over the scheme."
    assert meta(page, "property", "og:type") == "article"
    assert meta(page, "property", "og:title") == "Council approves the harbour plan"
    assert meta(page, "property", "og:description") == "Residents are split over the scheme."
    assert meta(page, "property", "og:url") == url
    assert meta(page, "property", "og:site_name") == "Masthead"
    assert meta(page, "property", "article:section") == "Politics"
    assert ld_json_page(page)["mainEntityOfPage"] == url
    assert "evil.example" not in page


def ld_json_page(page: str) -> dict:  # type: ignore[type-arg]
    class Response:
        content = page.encode()

    return ld_json(Response())  # type: ignore[arg-type]


def test_the_canonical_address_drops_the_query_but_keeps_a_later_page(client: Client) -> None:
    title = TitleFactory(slug="harbour-gazette")
    ArticleFactory.create_batch(11, title=title)

    first = client.get("/titles/harbour-gazette/?utm_source=x").content.decode()
    second = client.get("/titles/harbour-gazette/?page=2").content.decode()

    assert canonical(first) == f"{SITE}/titles/harbour-gazette/"
    assert canonical(second) == f"{SITE}/titles/harbour-gazette/?page=2"
    assert canonical(client.get("/?ref=mail").content.decode()) == f"{SITE}/"


def test_the_paywall_element_carries_the_class_the_json_ld_names(
    client: Client, premium_article
) -> None:
    response = client.get(f"/articles/{premium_article.pk}/", HTTP_USER_AGENT="Googlebot/2.1")

    page = response.content.decode()
    data = ld_json(response)
    selector = data["hasPart"]["cssSelector"]
    assert data["isAccessibleForFree"] is False and data["hasPart"]["@type"] == "WebPageElement"
    assert re.fullmatch(r"\.[a-z-]+", selector)
    assert re.search(rf'<section class="[^"]*\b{selector[1:]}\b', page)
    assert MARKER not in page


def test_every_page_has_a_favicon_and_favicon_ico_leads_to_it(client: Client) -> None:
    page = client.get("/").content.decode()

    icon = re.findall(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert icon == ["/static/web/favicon.svg"]
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == icon[0]
