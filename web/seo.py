"""What search engines read: robots.txt, the sitemap of titles and articles, and absolute
addresses built from ``SITE_URL`` (never from the request's Host)."""

from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from core.site import site_url
from membership.models import Article, Title

# Reader-specific and private pages: no use to a search engine.
ROBOTS_DISALLOW = ("/account/", "/accounts/", "/admin/", "/api/", "/billing/", "/trial/")


class SiteUrlSitemap(Sitemap):
    """A sitemap whose addresses come from ``SITE_URL``, not the request's Host."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site: object = None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class TitleSitemap(SiteUrlSitemap):
    changefreq = "daily"

    def items(self) -> QuerySet[Title]:
        return Title.objects.annotate(latest=Max("articles__published_at")).order_by("pk")

    def location(self, item: Title) -> str:
        return reverse("web:title", kwargs={"slug": item.slug})

    def lastmod(self, item: Title) -> datetime:
        return getattr(item, "latest", None) or item.created_at


class ArticleSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet[Article]:
        return Article.objects.only("pk", "published_at").order_by("pk")

    def lastmod(self, item: Article) -> datetime:
        return item.published_at


SITEMAPS = {"titles": TitleSitemap, "articles": ArticleSitemap}


@require_GET
@cache_control(max_age=3600, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Tell crawlers what to skip and where the sitemap is."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW)]
    lines += ["", f"Sitemap: {site_url(reverse('web:sitemap'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Send browsers that ask for /favicon.ico to the site's icon."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))
