"""Leak scan: no premium body reaches a reader who may not read it, on any page or endpoint.

Every premium body carries ``MARKER`` after its lead. The crawl requests every route of the
site (path parameters filled from real rows: every title, every article), every GET
operation of ``/api/schema/`` (every article by id, every title by slug, every page of every
list, each title's filter), the allauth pages and endpoints, the 404, and every link those
pages carry (pagination, periods, sign-in with ``next``), as anonymous, never-trialled,
lapsed and payment-failed readers: the marker appears 0 times. A reader whose trial runs
gets the same crawl, and the marker appears on every premium article's page and API answer
and nowhere else, so the scan can bite.
"""

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from membership.meter_models import MeterRead
from membership.models import Article, EntitlementSource
from membership.services.gift_links import gift_link_create
from tests.billing import conftest as billing_fixtures
from tests.factories import EntitlementFactory, UserFactory
from tests.reliability.readers import (
    MARKER,
    READER_WITH_ACCESS,
    READERS_WITHOUT_ACCESS,
    Catalogue,
    catalogue_make,
    payment_failed_reader,
    plans_on_sale,
    session_token,
)

_shared_sandbox = billing_fixtures._shared_sandbox
sandbox_api = billing_fixtures.sandbox_api

pytestmark = pytest.mark.django_db

MAX_PAGES = 2000
SITE = "http://testserver"
ARTICLE_API = "/api/v1/articles/"
# What the paywall tells each reader of a premium article (why the body is withheld).
REASONS = {
    "anonymous": "sign_up",
    "never_trialled": "start_trial",
    "lapsed": "subscribe",
    "payment_failed": "payment_failed",
}
SKIPPED_PREFIXES = ("/admin/", "/static/", "/api/")  # the admin: see test_security; the API:
# crawled from its schema below, with the reader's token
NOT_FOUND = ("/no-such-page/", "/articles/999999999/", "/titles/no-such-title/")
REGEX_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)")


@dataclass
class Crawl:
    """What a reader was answered: the marker count and status of every address fetched."""

    markers: dict[str, int] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # the API's access reasons

    def leaks(self) -> dict[str, int]:
        return {url: n for url, n in self.markers.items() if n}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def _same_site(page: str, href: str) -> str | None:
    """The path and query of a link on ``page`` if it stays on the site (and is crawled)."""
    parts = urlsplit(urljoin(f"{SITE}{page}", href))
    if f"{parts.scheme}://{parts.netloc}" != SITE:
        return None
    if parts.path.startswith(SKIPPED_PREFIXES):
        return None
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def site_urls(catalogue: Catalogue) -> list[str]:
    """Every route of the site outside the admin and the API, parameters filled from real
    rows (allauth's keys with a made-up one)."""
    urls = []
    articles = [a.pk for a in catalogue.premium + catalogue.open]
    for route in _routes(get_resolver().url_patterns):
        path = "/" + REGEX_GROUP.sub("bogus1-key", route.replace("^", "").replace("$", ""))
        if path.startswith(SKIPPED_PREFIXES) or "(" in path:  # a pattern that only refuses
            continue
        if "<slug:slug>" in path:
            urls += [path.replace("<slug:slug>", t.slug) for t in catalogue.titles]
        elif "<row_id:pk>" in path:
            urls += [path.replace("<row_id:pk>", str(pk)) for pk in articles]
        else:
            urls.append(path)
    return urls


def api_urls(client: Client, catalogue: Catalogue) -> list[str]:
    """Every GET operation of the schema, path parameters filled from real rows, and each
    list once per title filter; list pages are followed later through ``next``."""
    schema = client.get("/api/schema/?format=json").json()
    fills = {
        "{id}": [str(a.pk) for a in catalogue.premium + catalogue.open],
        "{slug}": [t.slug for t in catalogue.titles],
    }
    urls = []
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        holes = [hole for hole in fills if hole in path]
        if holes:
            urls += [path.replace(holes[0], value) for value in fills[holes[0]]]
            continue
        urls.append(path)
        names = {p["name"] for p in operations["get"].get("parameters", [])}
        if "title" in names:
            urls += [f"{path}?{urlencode({'title': t.slug})}" for t in catalogue.titles]
        if "page_size" in names:
            urls.append(f"{path}?page_size=100")
    return urls


def crawl(
    client: Client, catalogue: Catalogue, token: str | None, extra: tuple[str, ...] = ()
) -> Crawl:
    """Fetch every address (and ``extra`` ones first) and every link found, once each;
    count the marker in each."""
    result = Crawl()
    api_headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}
    queue = [*extra, *site_urls(catalogue), *NOT_FOUND, *api_urls(client, catalogue)]
    seen: set[str] = set()
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        api = url.startswith("/api/")
        response = client.get(url, **(api_headers if api else {}))
        body = response.content.decode()
        result.markers[url] = body.count(MARKER)
        result.statuses[response.status_code] += 1
        assert response.status_code < 500, url
        if api and response["Content-Type"].startswith("application/json"):
            data = response.json()
            if isinstance(data, dict) and "access" in data and url.startswith(ARTICLE_API):
                result.reasons[data["access"]["reason"]] += 1
            following = data.get("next") if isinstance(data, dict) else None
            if isinstance(following, str):  # the next page of a list
                queue.append(_same_site_api(following))
        elif response["Content-Type"].startswith("text/html"):
            links = _Links()
            links.feed(body)
            found = (_same_site(url, href) for href in links.hrefs)
            queue += [u for u in found if u and u not in seen]
    assert len(seen) < MAX_PAGES, "the crawl did not end"
    return result


def _same_site_api(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
def world(sandbox_api: Any) -> Catalogue:
    catalogue = catalogue_make()
    plans_on_sale(catalogue)
    return catalogue


def _must_have_crawled(result: Crawl, catalogue: Catalogue) -> None:
    """The crawl reached every article (page and API), every title's last page, and more."""
    for article in catalogue.premium + catalogue.open:
        assert f"/articles/{article.pk}/" in result.markers
        assert f"/api/v1/articles/{article.pk}/" in result.markers
    assert "/titles/premium-0/?page=3" in result.markers  # 24 articles, ten a page
    assert "/api/v1/articles/?page=2" in result.markers  # 32 articles, twenty a page
    for path in ("/", "/pricing/", "/account/", "/accounts/login/", "/accounts/signup/"):
        assert path in result.markers
    assert result.statuses[404] >= len(NOT_FOUND)


@pytest.mark.usefixtures("meter_off")  # the meter's readers: the next test
@pytest.mark.parametrize("state", ["anonymous", *READERS_WITHOUT_ACCESS, "payment_failed"])
def test_no_premium_body_reaches_a_reader_without_access(  # type: ignore[no-untyped-def]
    state, world, sandbox_api, client, settings
):
    token, moment = None, nullcontext()
    if state == "payment_failed":
        settings.BILLING_GRACE_DAYS = 0
        reader, after_grace = payment_failed_reader(sandbox_api, world.plans[0])
        moment = time_machine.travel(after_grace)
    elif state != "anonymous":
        reader = READERS_WITHOUT_ACCESS[state]()
    if state != "anonymous":
        client.force_login(reader)
        token = session_token(reader)

    with moment:
        result = crawl(client, world, token)

    _must_have_crawled(result, world)
    assert result.leaks() == {}
    premium, open_ = len(world.premium), len(world.open)
    assert result.reasons == {REASONS[state]: premium, "free_article": open_}
    print(f"{state}: {len(result.markers)} addresses, statuses {dict(result.statuses)}")


@pytest.mark.parametrize(
    ("state", "limit", "reason"), [("anonymous", 2, "sign_up"), ("registered", 5, "start_trial")]
)
def test_a_reader_who_spent_the_meter_gets_only_the_articles_counted_this_month(  # type: ignore[no-untyped-def]
    state, limit, reason, world, client
):
    """A device (web cookie, used by the API too) or a signed-in reader spends the month's
    free articles; the crawl then finds those bodies (a re-read is free) and no other."""
    token = None
    if state == "registered":
        reader = UserFactory()
        client.force_login(reader)
        token = session_token(reader)
    spent = world.premium[:limit]
    for article in spent:
        assert MARKER in client.get(f"/articles/{article.pk}/").content.decode()
    assert MARKER not in client.get(f"/articles/{world.premium[limit].pk}/").content.decode()

    result = crawl(client, world, token)

    _must_have_crawled(result, world)
    expected = {f"/articles/{a.pk}/" for a in spent}
    expected |= {f"/api/v1/articles/{a.pk}/" for a in spent}
    assert set(result.leaks()) == expected
    premium, open_ = len(world.premium), len(world.open)
    assert result.reasons == {"metered": limit, reason: premium - limit, "free_article": open_}
    assert MeterRead.objects.count() == limit


def test_the_scan_bites_the_marker_reaches_a_reader_with_access_on_article_answers_only(  # type: ignore[no-untyped-def]
    world, client
):
    reader = READER_WITH_ACCESS()
    client.force_login(reader)

    result = crawl(client, world, session_token(reader))

    _must_have_crawled(result, world)
    expected = {f"/articles/{a.pk}/" for a in world.premium}
    expected |= {f"/api/v1/articles/{a.pk}/" for a in world.premium}
    assert set(result.leaks()) == expected
    assert result.reasons == {"trial": len(world.premium), "free_article": len(world.open)}


def _gift_urls(articles: list[Article], gift: str) -> tuple[str, ...]:
    """Each article's page (both addresses) and API answer, opened with the gift token."""
    return tuple(
        url
        for article in articles
        for url in (
            f"/a/{article.pk}/?gift={gift}",
            f"/articles/{article.pk}/?gift={gift}",
            f"{ARTICLE_API}{article.pk}/?gift={gift}",
        )
    )


@pytest.mark.usefixtures("meter_off")
@pytest.mark.parametrize("link", ["expired", "other_article", "live"])
def test_a_gift_link_opens_its_own_article_while_live_and_nothing_else(  # type: ignore[no-untyped-def]
    link, world, client, settings
):
    """Anonymous, with no free articles from the meter, crawling with a subscriber's gift
    token on every article: an expired link opens nothing, a link opens no other article,
    and (so the scan bites) a live link opens its own article's three addresses only."""
    giver = EntitlementFactory(
        source=EntitlementSource.SUBSCRIPTION,
        starts_at=datetime(2020, 1, 1, tzinfo=UTC),
        ends_at=datetime(2035, 1, 1, tzinfo=UTC),
    ).user
    target = world.premium[0]
    given_at = timezone.now() - timedelta(days=settings.GIFT_LINK_DAYS if link == "expired" else 1)
    gift = gift_link_create(giver=giver, article=target, at=given_at).token
    others = [a for a in world.premium + world.open if a != target]

    opened = others if link == "other_article" else [target, *others]

    result = crawl(client, world, None, extra=_gift_urls(opened, gift))

    _must_have_crawled(result, world)
    expected = set(_gift_urls([target], gift)) if link == "live" else set()
    assert set(result.leaks()) == expected
    for url in _gift_urls(others, gift):
        assert result.markers[url] == 0
