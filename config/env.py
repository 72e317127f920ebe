"""Read typed settings from environment variables."""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Return the variable read as a yes/no word; refuse anything else."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value (use true or false).")


def env_int(name: str, default: int) -> int:
    """Return the variable read as an integer; refuse anything else."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def cache_config(url: str, *, default_dir: Path) -> dict[str, Any]:
    """Turn ``CACHE_URL`` into a Django ``CACHES["default"]`` entry.

    ``redis://`` / ``rediss://`` use Django's Redis backend, failing open while the server is
    unreachable (``config.cache``), ``file:///path`` a file cache
    shared by every local process, ``locmem://`` a per-process cache (tests only).
    An empty URL means a file cache under ``default_dir``.
    """
    if not url:
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(default_dir),
        }
    scheme = urlsplit(url).scheme
    if scheme in {"redis", "rediss"}:
        return {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": url}
    if scheme == "file":
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": urlsplit(url).path,
        }
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    raise ImproperlyConfigured(
        f"CACHE_URL={url!r}: use redis://host:port/db, file:///path or locmem://."
    )


def site_url_parse(url: str) -> str:
    """Return ``SITE_URL`` without its trailing slash; refuse an empty or partial address.

    The site's public address must be a scheme and a host (and optionally a port), such as
    ``https://news.example.com``: it is the start of every link in an email and of every
    address Stripe sends a reader back to.
    """
    if not url:
        raise ImproperlyConfigured(
            "SITE_URL is not set. Masthead refuses to start with DEBUG off and no SITE_URL: "
            "set it to the site's public address, e.g. https://news.example.com."
        )
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(f"SITE_URL={url!r}: use http(s)://host[:port].")
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise ImproperlyConfigured(f"SITE_URL={url!r}: give only the scheme, host and port.")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SITE_URL={url!r}: the port is not a number.") from exc
    return f"{parts.scheme}://{parts.netloc}"
