"""The site's public address, from ``SITE_URL``: the start of every absolute URL given to
Stripe or put in an email. Never the request's Host header: ``ALLOWED_HOSTS`` checks the
host but not the port, so ``Host: news.example.com:1337`` passes it."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

SITE_NAME = "Masthead"


@dataclass(frozen=True)
class PublicSite:
    """Stands where ``django.contrib.sites``' current site would, for allauth's emails."""

    name: str
    domain: str


def site_url(path: str = "/") -> str:
    """Return the absolute URL of ``path`` (a path on this site, such as ``/account/``)."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"{path!r} is not a path on this site.")
    return settings.SITE_URL.rstrip("/") + path


def site_public() -> PublicSite:
    """Return the site's name and its public host (with the port, if ``SITE_URL`` has one)."""
    return PublicSite(name=SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)
