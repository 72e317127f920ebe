"""Template helpers for the reader's pages: prices, JSON-LD and absolute addresses."""

import json
from datetime import date, datetime, timedelta
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from core.site import site_url as _site_url

register = template.Library()

CURRENCY_SYMBOLS = {"gbp": "£", "usd": "$", "eur": "€", "aud": "A$"}

# The characters that could end a <script> element or open a comment inside it.
SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def money(amount: int, currency: str) -> str:
    """Format an amount in minor units, e.g. ``999|money:"gbp"`` -> ``£9.99``."""
    symbol = CURRENCY_SYMBOLS.get(currency.lower(), f"{currency.upper()} ")
    return f"{symbol}{amount // 100}.{amount % 100:02d}"


@register.simple_tag
def ld_json(data: Any) -> SafeString:
    """Render ``data`` as a JSON-LD script element, safe to embed in HTML."""
    payload = json.dumps(data, ensure_ascii=False).translate(SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308


@register.simple_tag
def trial_days() -> int:
    """Return the length of the free trial in days."""
    return int(settings.TRIAL_DAYS)


@register.simple_tag
def gift_link_days() -> int:
    """Return how many days a gift link opens its article."""
    return int(settings.GIFT_LINK_DAYS)


@register.simple_tag
def site_url(path: str) -> str:
    """Return the absolute address of ``path`` from ``SITE_URL`` (never the request's Host)."""
    return _site_url(path or "/")  # a page rendered without a request (the 500 page)


@register.filter
def last_day(moment: datetime | None) -> date | None:
    """Return the last day of access that ends at ``moment``: access ending at midnight
    ends with the day before (a comp to 31 December ends at 00:00 on 1 January)."""
    if moment is None:
        return None
    local = timezone.localtime(moment)
    if local.time() == datetime.min.time():
        return local.date() - timedelta(days=1)
    return local.date()
