"""Gift links: give one (within the monthly allowance), open one, withdraw one.

The token a link carries is never stored. It is derived from a random 128-bit salt kept on
the link's row and ``GIFT_LINK_KEY`` (an HMAC-SHA256, 256 bits, URL-safe), and the row keeps
only the token's SHA-256. So the giver who shares the same article again is shown the same
link at no cost (the token is derived again), while a copy of the database alone opens
nothing: the salt is useless without the key, and a hash cannot be turned back into a
token. Keeping the token encrypted instead would need the same key and a cipher on top.
"""

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from membership import errors
from membership.models import (
    GIFTING_SOURCES,
    Article,
    Entitlement,
    GiftLink,
    GiftLinkOpen,
    GiftLinkState,
)

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
KEY_SALT = "masthead.membership.gift_link"


def gift_link_token(*, link: GiftLink) -> str:
    """Return the token of ``link``, derived from its salt and ``GIFT_LINK_KEY``."""
    value = f"{link.giver_id}:{link.article_id}:{link.salt}"
    digest = salted_hmac(KEY_SALT, value, secret=settings.GIFT_LINK_KEY, algorithm="sha256")
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def gift_token_hash(token: str) -> str:
    """Return the SHA-256 (hex) of a token, as links store it."""
    return hashlib.sha256(token.encode()).hexdigest()


def gift_month_bounds(at: datetime) -> tuple[datetime, datetime]:
    """Return the calendar month (in ``TIME_ZONE``) holding ``at``: its first moment and the
    first moment of the next month."""
    local = timezone.localtime(at)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def gift_link_state(link: GiftLink, *, at: datetime) -> GiftLinkState:
    """Say what the link does at ``at`` for a device it has not opened on yet."""
    if link.revoked_at is not None:
        return GiftLinkState.REVOKED
    if at >= link.expires_at:
        return GiftLinkState.EXPIRED
    if link.opens >= settings.GIFT_LINK_MAX_OPENS:
        return GiftLinkState.EXHAUSTED
    return GiftLinkState.LIVE


def gift_giver_may_give(*, giver: User, article: Article, at: datetime) -> bool:
    """Whether the giver's paid access (``GIFTING_SOURCES``) covers the article's title now."""
    return (
        Entitlement.objects.live(at)
        .filter(user=giver, source__in=GIFTING_SOURCES)
        .covering(article.title_id)
        .exists()
    )


@dataclass(frozen=True)
class GiftLinkGiven:
    """A link as its giver sees it after sharing: ``new`` is False when it was given before."""

    link: GiftLink
    token: str
    new: bool


def _reusable(link: GiftLink, *, at: datetime) -> bool:
    if gift_link_state(link, at=at) != GiftLinkState.LIVE:
        return False
    return gift_token_hash(gift_link_token(link=link)) == link.token_hash  # key unchanged


@transaction.atomic
def gift_link_create(*, giver: User, article: Article, at: datetime | None = None) -> GiftLinkGiven:
    """Give a link to ``article`` that opens for ``GIFT_LINK_DAYS`` on up to
    ``GIFT_LINK_MAX_OPENS`` devices or readers.

    Only a reader whose paid access covers the article may give one (403
    ``gift_links_paid_only``), at most ``GIFT_LINKS_PER_MONTH`` a calendar month (409
    ``gift_links_used_up``). Sharing an article again in the same month returns the link
    already given, at no cost, while it still opens; a withdrawn one is not replaced (409
    ``gift_link_revoked``). The giver's row is locked, so parallel requests cannot exceed the
    allowance or give two links to one article.
    """
    now = at or timezone.now()
    if article.is_open:
        raise errors.gift_link_article_free()
    User.objects.select_for_update().filter(pk=giver.pk).first()
    if not gift_giver_may_give(giver=giver, article=article, at=now):
        raise errors.gift_links_paid_only()
    start, end = gift_month_bounds(now)
    this_month = GiftLink.objects.filter(giver=giver, created_at__gte=start, created_at__lt=end)
    given = this_month.filter(article=article).order_by("-created_at", "-pk").first()
    if given is not None and given.revoked_at is not None:
        raise errors.gift_link_revoked()
    if given is not None and _reusable(given, at=now):
        return GiftLinkGiven(link=given, token=gift_link_token(link=given), new=False)
    if this_month.count() >= settings.GIFT_LINKS_PER_MONTH:
        raise errors.gift_links_used_up(per_month=settings.GIFT_LINKS_PER_MONTH)
    link = GiftLink(
        giver=giver,
        article=article,
        salt=secrets.token_hex(16),
        created_at=now,
        expires_at=now + timedelta(days=settings.GIFT_LINK_DAYS),
    )
    token = gift_link_token(link=link)
    link.token_hash = gift_token_hash(token)
    link.save()
    return GiftLinkGiven(link=link, token=token, new=True)


@transaction.atomic
def gift_link_revoke(*, link: GiftLink, actor: User | None = None) -> GiftLink:
    """Withdraw the link: from now on it opens nothing, on any device. Idempotent."""
    locked = GiftLink.objects.select_for_update().get(pk=link.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


@dataclass(frozen=True)
class GiftOpening:
    """What a gift token did for one reader on one article: ``granted`` when it opened it;
    otherwise ``state`` says why not."""

    state: GiftLinkState
    link: GiftLink | None = None
    granted: bool = False

    @property
    def message(self) -> str:
        return "A gift from a Masthead member" if self.granted else str(self.state.label)


def gift_opener(*, reader: User | None, device_id: str | None) -> str:
    """Return who opens a link: the signed-in reader, else the device; a request with
    neither is a new device each time (it costs an open)."""
    if reader is not None:
        return f"reader:{reader.pk}"
    if device_id:
        return f"device:{device_id}"[:100]
    return f"unknown:{secrets.token_hex(16)}"


def gift_link_open(
    *,
    token: str,
    article: Article,
    reader: User | None,
    device_id: str | None,
    record: bool = True,
    at: datetime | None = None,
) -> GiftOpening:
    """Open ``article`` with a gift token, for a reader the paywall has denied.

    Grants only a live link to this very article; it counts the reader (or device) as one of
    its ``GIFT_LINK_MAX_OPENS`` openers the first time, and reopening there is free. Without
    ``record`` it grants only where the link has opened before and counts nothing. The
    link's row is locked while an opener is added, so parallel first opens cannot exceed the
    limit. Costs one query for a token that does not open (none for a malformed one).
    """
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return GiftOpening(GiftLinkState.INVALID)
    now = at or timezone.now()
    link = GiftLink.objects.filter(token_hash=gift_token_hash(token)).first()
    if link is None:
        return GiftOpening(GiftLinkState.INVALID)
    if link.article_id != article.pk:
        return GiftOpening(GiftLinkState.OTHER_ARTICLE, link)
    if link.revoked_at is not None or now >= link.expires_at:
        return GiftOpening(gift_link_state(link, at=now), link)
    opener = gift_opener(reader=reader, device_id=device_id)
    if GiftLinkOpen.objects.filter(link=link, opener=opener).exists():
        return GiftOpening(GiftLinkState.LIVE, link, granted=True)  # reopening is free
    if not record:
        return GiftOpening(gift_link_state(link, at=now), link)
    return _first_open(link=link, opener=opener, reader=reader, at=now)


@transaction.atomic
def _first_open(*, link: GiftLink, opener: str, reader: User | None, at: datetime) -> GiftOpening:
    locked = GiftLink.objects.select_for_update().get(pk=link.pk)
    if GiftLinkOpen.objects.filter(link=locked, opener=opener).exists():
        return GiftOpening(GiftLinkState.LIVE, locked, granted=True)  # opened in parallel
    state = gift_link_state(locked, at=at)
    if state != GiftLinkState.LIVE:
        return GiftOpening(state, locked)
    GiftLinkOpen.objects.create(link=locked, opener=opener, reader=reader, opened_at=at)
    locked.opens += 1
    locked.save(update_fields=["opens"])
    return GiftOpening(GiftLinkState.LIVE, locked, granted=True)
