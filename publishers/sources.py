"""Where a read's access came from, and which sources earn from a paying reader's money.

The one place that maps the paywall's decision to a ledger source: a new way to read (a
group seat, a credit, an app store subscription, the meter, a gift link) is one line here.
"""

from typing import Any

from membership.access import AccessReason, article_access
from membership.models import Article

# The access reason that granted the body -> the source recorded on the ledger row. A
# reason not listed here is recorded under its own value.
SOURCE_BY_REASON: dict[str, str] = {
    AccessReason.TRIAL: "trial",
    AccessReason.SUBSCRIPTION: "subscription",
    AccessReason.COMP: "comp",
    AccessReason.GIFT: "gift",
    "group": "group",
    "credit": "credit",
    "apple": "app_store",
    "google": "app_store",
    "app_store": "app_store",
    "metered": "metered",
    "gift_link": "gift_link",
}

# Reads under these sources are recorded and shown but earn from no reader's payment.
UNPAID_SOURCES = frozenset({"trial", "comp", "metered", "gift_link"})


def read_source(*, reader: Any, article: Article) -> str | None:
    """Return the ledger source of the reader's access to the article's body now, or None
    when the body is not theirs to read or is open to everyone (nothing to pay for).

    Decides like the gated read, without counting a metered read."""
    decision = article_access(reader=reader, article=article)
    if not decision.granted or article.is_open:
        return None
    return SOURCE_BY_REASON.get(decision.reason, str(decision.reason))


def source_earns(source: str) -> bool:
    """Whether reads under this source share the reader's payment."""
    return source not in UNPAID_SOURCES
