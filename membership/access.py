"""The paywall's one question: may this reader read this article now, and if not, why?"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from membership.models import Article, Entitlement, EntitlementSource


class AccessReason(models.TextChoices):
    FREE_ARTICLE = "free_article", "Free to read"
    TRIAL = "trial", "Free trial"
    SUBSCRIPTION = "subscription", "Subscription"
    COMP = "comp", "Complimentary access"
    GIFT = "gift", "Gift"
    SIGN_UP = "sign_up", "Sign up to read"
    START_TRIAL = "start_trial", "Start the free trial"
    SUBSCRIBE = "subscribe", "Subscribe to read"
    PAYMENT_FAILED = "payment_failed", "Update your card to keep reading"


# When several live entitlements cover an article, the reason names the strongest.
SOURCE_PRIORITY = (
    EntitlementSource.SUBSCRIPTION,
    EntitlementSource.COMP,
    EntitlementSource.GIFT,
    EntitlementSource.TRIAL,
)


@dataclass(frozen=True)
class AccessDecision:
    granted: bool
    reason: AccessReason


FREE = AccessDecision(True, AccessReason.FREE_ARTICLE)
SIGN_UP = AccessDecision(False, AccessReason.SIGN_UP)


def _signed_in(reader: Any) -> bool:
    return reader is not None and bool(getattr(reader, "is_authenticated", False))


def _decision(sources: Iterable[str], reader: Any) -> AccessDecision:
    """Grant by the strongest live source; otherwise deny with the reader's next step."""
    present = set(sources)
    for source in SOURCE_PRIORITY:
        if source in present:
            return AccessDecision(True, AccessReason(source.value))
    if reader.payment_issue_since is not None:
        return AccessDecision(False, AccessReason.PAYMENT_FAILED)
    if reader.trial_used_at is None:
        return AccessDecision(False, AccessReason.START_TRIAL)
    return AccessDecision(False, AccessReason.SUBSCRIBE)


@functools.cache
def _live_sources_sql() -> str:
    """Return the SQL of the distinct sources of
    ``Entitlement.objects.live(at).covering(title_id).filter(user_id=...)``.

    Parameters: the reader's id, ``at`` twice, the title's id. Table names come from the
    models' metadata, never from input.
    """
    entitlements = Entitlement._meta.db_table
    covered = Entitlement.titles.through._meta.db_table
    return (
        f"SELECT DISTINCT e.source FROM {entitlements} e"  # noqa: S608 (model metadata)
        " WHERE e.user_id = %s AND e.starts_at <= %s AND e.ends_at > %s"
        f" AND (e.all_titles OR EXISTS (SELECT 1 FROM {covered} c"
        " WHERE c.entitlement_id = e.id AND c.title_id = %s))"
    )


def _live_sources(*, reader_id: int, title_id: int, at: datetime | None) -> list[str]:
    """Return the sources of the reader's entitlements live at ``at`` that cover the title.

    The same question as the ORM's ``live().covering()``, in hand-written SQL: on every
    gated read the ORM spent more than twice the query's own round trip building and
    compiling it (``bench/gated_read.py``). It uses the ``(user, ends_at)`` index.
    """
    connection = connections[router.db_for_read(Entitlement)]
    moment = Entitlement._meta.get_field("ends_at").get_db_prep_value(
        at or timezone.now(), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(_live_sources_sql(), [reader_id, moment, moment, title_id])
        return [row[0] for row in cursor.fetchall()]


def article_access(*, reader: Any, article: Article, at: datetime | None = None) -> AccessDecision:
    """Decide whether ``reader`` may read ``article`` at ``at`` (now by default).

    Costs no query for an open article or an anonymous reader, and one indexed query
    otherwise; the denial reason comes from a column of the already-loaded user.
    ``article.title`` must be loaded (``select_related``).
    """
    if article.is_open:
        return FREE
    if not _signed_in(reader):
        return SIGN_UP
    sources = _live_sources(reader_id=reader.pk, title_id=article.title_id, at=at)
    return _decision(sources, reader)


@dataclass
class ReaderCoverage:
    """Everything a reader's live entitlements open, loaded once for a list of articles."""

    reader: Any
    all_titles_sources: set[str] = field(default_factory=set)
    sources_by_title: dict[int, set[str]] = field(default_factory=dict)

    def decide(self, article: Article) -> AccessDecision:
        """Decide for one article without a query (``article.title`` must be loaded)."""
        if article.is_open:
            return FREE
        if not _signed_in(self.reader):
            return SIGN_UP
        sources = self.all_titles_sources | self.sources_by_title.get(article.title_id, set())
        return _decision(sources, self.reader)


def reader_coverage(*, reader: Any, at: datetime | None = None) -> ReaderCoverage:
    """Load what the reader's live entitlements cover, in at most one query."""
    coverage = ReaderCoverage(reader=reader)
    if not _signed_in(reader):
        return coverage
    rows = (
        Entitlement.objects.live(at)
        .filter(user_id=reader.pk)
        .values_list("source", "all_titles", "titles__id")
    )
    for source, all_titles, title_id in rows:
        if all_titles:
            coverage.all_titles_sources.add(source)
        elif title_id is not None:
            coverage.sources_by_title.setdefault(title_id, set()).add(source)
    return coverage
