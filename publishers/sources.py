"""Where a read's access came from, and which sources earn from a paying reader's money.

The one place that maps the paywall's decision to a ledger source: a new way to read (a
group seat, a credit, an app store subscription, the meter, a gift link) is one line here.
"""

from typing import Any

from membership.access import AccessReason
from membership.models import Article
from membership.reading import article_read

# The access reason that granted the body -> the source recorded on the ledger row. A
# reason not listed here is recorded under its own value.
SOURCE_BY_REASON: dict[str, str] = {
    AccessReason.TRIAL: "trial",
    AccessReason.SUBSCRIPTION: "subscription",
    AccessReason.COMP: "comp",
    AccessReason.GIFT: "gift",
    AccessReason.GROUP: "group",
    AccessReason.CREDIT: "credit",
    AccessReason.APPLE: "app_store",
    AccessReason.GOOGLE: "app_store",
    AccessReason.METERED: "metered",
    AccessReason.GIFT_LINK: "gift_link",
}

# Reads under these sources are recorded and shown but earn from no reader's payment.
UNPAID_SOURCES = frozenset({"trial", "comp", "metered", "gift_link"})


def read_source(
    *, reader: Any, article: Article, device_id: str | None = None, gift_token: str | None = None
) -> str | None:
    """Return the ledger source of the reader's access to the article's body now, or None
    when the body is not theirs to read or is open to everyone (nothing to pay for).

    Decides like the article page (entitlements, the gift link the reader brings, the
    meter) without counting anything: a metered or gift-link read counts only where that
    article was already opened."""
    decision = article_read(
        reader=reader, article=article, device_id=device_id, gift_token=gift_token, record=False
    )
    if not decision.granted or article.is_open:
        return None
    return SOURCE_BY_REASON.get(decision.reason, str(decision.reason))


def source_earns(source: str) -> bool:
    """Whether reads under this source share the reader's payment."""
    return source not in UNPAID_SOURCES
