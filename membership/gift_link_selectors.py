"""Reads of gift links: a giver's links and what is left of their monthly allowance."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import User
from core.site import site_url
from membership.models import GiftLink, GiftLinkState
from membership.services.gift_links import (
    gift_link_state,
    gift_link_token,
    gift_month_bounds,
    gift_token_hash,
)

LIST_LIMIT = 100


def gift_link_url(*, article_id: int, token: str) -> str:
    """Return the absolute address that opens the article with the token (from SITE_URL)."""
    path = reverse("web:article-short", kwargs={"pk": article_id})
    return site_url(f"{path}?{urlencode({'gift': token})}")


def gift_link_opens_left(link: GiftLink) -> int:
    """Return how many more devices or readers the link may open on."""
    return max(0, settings.GIFT_LINK_MAX_OPENS - link.opens)


@dataclass(frozen=True)
class GiftAllowance:
    """The giver's gift links this calendar month: the limit, how many given, how many left,
    and when the count starts again."""

    limit: int
    given: int
    remaining: int
    resets_at: datetime


def gift_allowance_get(*, giver: User, at: datetime | None = None) -> GiftAllowance:
    """Return the giver's allowance for the month holding ``at`` (now), in one query."""
    start, end = gift_month_bounds(at or timezone.now())
    given = GiftLink.objects.filter(giver=giver, created_at__gte=start, created_at__lt=end)
    count = given.count()
    limit = settings.GIFT_LINKS_PER_MONTH
    return GiftAllowance(limit=limit, given=count, remaining=max(0, limit - count), resets_at=end)


@dataclass(frozen=True)
class GiftLinkRow:
    """One of the giver's links: its address (empty when it can no longer be derived, after
    ``GIFT_LINK_KEY`` changed), what it does now and how many opens it has left."""

    link: GiftLink
    url: str
    token: str
    state: GiftLinkState
    opens_left: int


def gift_link_rows(*, giver: User, at: datetime | None = None) -> list[GiftLinkRow]:
    """Return the giver's latest links (at most ``LIST_LIMIT``), newest first, with their
    articles loaded (one query)."""
    now = at or timezone.now()
    links = (
        GiftLink.objects.filter(giver=giver)
        .select_related("article", "article__title")
        .defer("article__body")
        .order_by("-created_at", "-pk")[:LIST_LIMIT]
    )
    rows = []
    for link in links:
        token = gift_link_token(link=link)
        if gift_token_hash(token) != link.token_hash:
            token = ""
        url = gift_link_url(article_id=link.article_id, token=token) if token else ""
        state = gift_link_state(link, at=now)
        left = gift_link_opens_left(link) if state == GiftLinkState.LIVE else 0
        rows.append(GiftLinkRow(link=link, url=url, token=token, state=state, opens_left=left))
    return rows
