"""Reading a premium article: the entitlement decision first, then a gift link when the
reader brings one, then the monthly meter.

``article_read`` is what the article's API view and web page ask (the full read path);
``membership.access.article_access`` stays the entitlement-only question.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone

from membership.access import AccessDecision, AccessReason, article_access, with_reader_access
from membership.meter import MeterState, meter_limits_get, meter_month
from membership.models import Article
from membership.services.gift_links import GiftOpening, gift_link_open
from membership.services.meter import (
    MeterAsk,
    meter_count_brought,
    meter_read_count,
    meter_read_peek,
    with_meter_count,
)

R = TypeVar("R", bound=HttpResponseBase)

# The query parameter a gift link's token travels in: /a/<id>/?gift=<token>.
GIFT_PARAMETER = "gift"


def gift_referrer_hide(response: R) -> R:
    """Keep the gift token of the page's address out of the Referer header of whatever the
    page loads or links to (other sites and the site's own logs alike)."""
    response["Referrer-Policy"] = "no-referrer"
    return response


# Denials the meter may turn into a free read: readers with no live entitlement. A reader
# whose plan covers other titles (``upgrade``) has one, and is never metered.
METERED_DENIALS = frozenset(
    {
        AccessReason.SIGN_UP,
        AccessReason.VERIFY_EMAIL,
        AccessReason.START_TRIAL,
        AccessReason.SUBSCRIBE,
        AccessReason.PAYMENT_FAILED,
    }
)


@dataclass(frozen=True)
class ReadDecision:
    """The access decision after the meter, with the reader's meter when it applies.

    ``reason`` is ``metered`` for a read the meter granted; when the meter is spent the
    denial keeps its reason (``sign_up``, ``start_trial``, ``subscribe`` ...) and ``meter``
    shows nothing remaining. ``reason`` is ``gift_link`` for a read a gift link opened;
    ``gift`` says what the gift token brought did (also why it opened nothing).
    """

    granted: bool
    reason: AccessReason
    meter: MeterState | None = None
    gift: GiftOpening | None = None
    # A denied reader's unspent credits (from ``article_access``): they may unlock with one.
    credits: int = 0

    @property
    def access(self) -> AccessDecision:
        return AccessDecision(self.granted, self.reason, self.credits)


def meter_subject(*, reader: Any, device_id: str | None) -> str | None:
    """Return whom the meter counts for: the signed-in reader, else the device, else None."""
    if reader is not None and getattr(reader, "is_authenticated", False):
        return f"user:{reader.pk}"
    return f"device:{device_id}" if device_id else None


# The attribute ``read_article_get`` leaves on an article whose statement counted a read.
_METER_ASK = "meter_ask"


def read_article_get(
    *,
    article_id: int,
    reader: Any,
    device_id: str | None,
    record: bool = True,
    crawler: bool = False,
    gift_token: str | None = None,
) -> Article:
    """Return the article (its title loaded) that ``article_read`` with the same arguments
    decides on, or raise ``Http404``; what deciding needs comes in the same statement: the
    signed-in reader's access (``with_reader_access``), or the free read of a reader on a
    device, counted there when the article is metered (``with_meter_count``, PostgreSQL).
    So a read granted by an entitlement or by the meter costs one statement besides the
    reader's own."""
    articles = Article.objects.select_related("title")
    ask = None
    if _signed_in(reader):
        articles = with_reader_access(articles, reader=reader)
    elif record and not crawler and not gift_token:
        ask = _meter_ask(subject=meter_subject(reader=None, device_id=device_id), registered=False)
        if ask is not None:
            articles = with_meter_count(articles, ask=ask)
    article = get_object_or_404(articles, pk=article_id)
    setattr(article, _METER_ASK, ask)
    return article


def _meter_ask(
    *, subject: str | None, registered: bool, at: datetime | None = None
) -> MeterAsk | None:
    """The meter's free read for ``subject`` now (or ``at``); None when nobody is counted or
    the meter is off for them."""
    if subject is None:
        return None
    limits = meter_limits_get()
    limit = limits.registered if registered else limits.anonymous
    if limit <= 0:
        return None
    moment = at or timezone.now()
    return MeterAsk(subject=subject, month=meter_month(moment)[0], limit=limit, at=moment)


def article_read(
    *,
    reader: Any,
    article: Article,
    device_id: str | None,
    record: bool = True,
    crawler: bool = False,
    gift_token: str | None = None,
    at: datetime | None = None,
) -> ReadDecision:
    """Decide whether ``reader`` (on device ``device_id``) may read ``article`` now.

    Entitlements first (``article_access``: a reader with access costs nothing more);
    then the gift link whose token the reader brings (``gift_token``; it opens the whole
    article and leaves the meter alone; crawlers and link previews never open one); then,
    for a premium article of a metered title, the monthly meter. With ``record`` a
    free read is counted (call it only when the body is sent); without, only an article
    already counted this month is granted. Crawlers are never metered. ``article.title``
    must be loaded.
    """
    access = article_access(reader=reader, article=article, at=at)
    if access.granted:
        return ReadDecision(access.granted, access.reason)
    gift = None
    if gift_token and not crawler:
        gift = gift_link_open(
            token=gift_token,
            article=article,
            reader=reader if _signed_in(reader) else None,
            device_id=device_id,
            record=record,
            at=at,
        )
        if gift.granted:
            return ReadDecision(True, AccessReason.GIFT_LINK, gift=gift)
    metered = _metered(
        access=access,
        reader=reader,
        article=article,
        device_id=device_id,
        record=record,
        crawler=crawler,
        at=at,
    )
    return replace(metered, gift=gift, credits=0 if metered.granted else access.credits)


def _signed_in(reader: Any) -> bool:
    return reader is not None and bool(getattr(reader, "is_authenticated", False))


def _metered(
    *,
    access: AccessDecision,
    reader: Any,
    article: Article,
    device_id: str | None,
    record: bool,
    crawler: bool,
    at: datetime | None,
) -> ReadDecision:
    """Let the monthly meter decide for a reader the paywall denied."""
    if access.reason not in METERED_DENIALS or crawler:
        return ReadDecision(access.granted, access.reason)
    if article.title.never_metered:
        return ReadDecision(access.granted, access.reason)
    subject = meter_subject(reader=reader, device_id=device_id)
    # The read ``read_article_get`` already counted with the article, if it is this one.
    ask = getattr(article, _METER_ASK, None) if record and at is None else None
    brought = meter_count_brought(article) if ask is not None and ask.subject == subject else None
    if brought is None:
        ask = _meter_ask(subject=subject, registered=_signed_in(reader), at=at)
    if ask is None:
        return ReadDecision(access.granted, access.reason)
    resets_at = meter_month(ask.at)[1]
    if record:
        granted, used = meter_read_count(
            subject=ask.subject,
            article_id=article.pk,
            month=ask.month,
            limit=ask.limit,
            at=ask.at,
            brought=brought,
        )
    else:
        granted, used = meter_read_peek(subject=ask.subject, article_id=article.pk, month=ask.month)
    meter = MeterState(used=used, limit=ask.limit, resets_at=resets_at)
    if granted:
        return ReadDecision(True, AccessReason.METERED, meter)
    return ReadDecision(False, access.reason, meter)
