"""Reading a premium article: the entitlement decision first, then a gift link when the
reader brings one, then the monthly meter.

``article_read`` is what the article's API view and web page ask (the full read path);
``membership.access.article_access`` stays the entitlement-only question.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from django.http.response import HttpResponseBase
from django.utils import timezone

from membership.access import AccessDecision, AccessReason, article_access
from membership.meter import MeterState, meter_limits_get, meter_month
from membership.models import Article
from membership.services.gift_links import GiftOpening, gift_link_open
from membership.services.meter import meter_read_count, meter_read_peek

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

    @property
    def access(self) -> AccessDecision:
        return AccessDecision(self.granted, self.reason)


def meter_subject(*, reader: Any, device_id: str | None) -> str | None:
    """Return whom the meter counts for: the signed-in reader, else the device, else None."""
    if reader is not None and getattr(reader, "is_authenticated", False):
        return f"user:{reader.pk}"
    return f"device:{device_id}" if device_id else None


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
    return replace(metered, gift=gift)


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
    if subject is None:
        return ReadDecision(access.granted, access.reason)
    limits = meter_limits_get()
    limit = limits.registered if subject.startswith("user:") else limits.anonymous
    if limit <= 0:
        return ReadDecision(access.granted, access.reason)
    moment = at or timezone.now()
    month, resets_at = meter_month(moment)
    if record:
        granted, used = meter_read_count(
            subject=subject, article_id=article.pk, month=month, limit=limit, at=moment
        )
    else:
        granted, used = meter_read_peek(subject=subject, article_id=article.pk, month=month)
    meter = MeterState(used=used, limit=limit, resets_at=resets_at)
    if granted:
        return ReadDecision(True, AccessReason.METERED, meter)
    return ReadDecision(False, access.reason, meter)
