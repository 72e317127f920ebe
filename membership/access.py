"""The paywall's one question: may this reader read this article now, and if not, why?"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import connections, models, router
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from membership.models import (
    Article,
    CreditAccount,
    Entitlement,
    EntitlementSource,
    Title,
    Trial,
)
from membership.services.trials import email_hash


class AccessReason(models.TextChoices):
    FREE_ARTICLE = "free_article", "Free to read"
    TRIAL = "trial", "Free trial"
    SUBSCRIPTION = "subscription", "Subscription"
    COMP = "comp", "Complimentary access"
    GIFT = "gift", "Gift"
    GIFT_LINK = "gift_link", "Gift link"
    METERED = "metered", "Free article this month"
    GROUP = "group", "Group or family membership"
    CREDIT = "credit", "Credit"
    APPLE = "apple", "App Store subscription"
    GOOGLE = "google", "Google Play subscription"
    SIGN_UP = "sign_up", "Sign up to read"
    START_TRIAL = "start_trial", "Start the free trial"
    VERIFY_EMAIL = "verify_email", "Verify your email address to start the free trial"
    SUBSCRIBE = "subscribe", "Subscribe to read"
    UPGRADE = "upgrade", "Switch to a plan that covers this title"
    PAYMENT_FAILED = "payment_failed", "Update your card to keep reading"


# When several live entitlements cover an article, the reason names the strongest.
SOURCE_PRIORITY = (
    EntitlementSource.SUBSCRIPTION,
    EntitlementSource.APPLE,
    EntitlementSource.GOOGLE,
    EntitlementSource.COMP,
    EntitlementSource.GIFT,
    EntitlementSource.GROUP,
    EntitlementSource.CREDIT,
    EntitlementSource.TRIAL,
)


@dataclass(frozen=True)
class AccessDecision:
    granted: bool
    reason: AccessReason
    # A denied reader's unspent credits, asked in the same statement: they may unlock the
    # article with one (``article_access`` only; 0 elsewhere).
    credits: int = 0


FREE = AccessDecision(True, AccessReason.FREE_ARTICLE)
SIGN_UP = AccessDecision(False, AccessReason.SIGN_UP)


def _signed_in(reader: Any) -> bool:
    return reader is not None and bool(getattr(reader, "is_authenticated", False))


# Facts a trial offer depends on, asked in the same statement as the entitlements when the
# reader has had no trial on this account: rows of their own, never an entitlement source.
EMAIL_VERIFIED = "account:email_verified"
TRIAL_TAKEN = "account:trial_taken"
# The reader's unspent credits, as this prefix followed by the number (only when some).
CREDITS = "account:credits:"


def _decision(sources: set[str], present: set[str], reader: Any) -> AccessDecision:
    """Grant by the strongest live source covering the article (``sources``); otherwise
    deny with the reader's next step. ``present`` holds every live source of the reader and
    the facts ``EMAIL_VERIFIED`` and ``TRIAL_TAKEN`` when they hold."""
    for source in SOURCE_PRIORITY:
        if source in sources:
            return AccessDecision(True, AccessReason(source.value))
    if EntitlementSource.SUBSCRIPTION in present:  # a plan that covers other titles
        return AccessDecision(False, AccessReason.UPGRADE)
    if reader.payment_issue_since is not None:
        return AccessDecision(False, AccessReason.PAYMENT_FAILED)
    if reader.trial_used_at is None and TRIAL_TAKEN not in present:
        if EMAIL_VERIFIED in present:
            return AccessDecision(False, AccessReason.START_TRIAL)
        return AccessDecision(False, AccessReason.VERIFY_EMAIL)
    return AccessDecision(False, AccessReason.SUBSCRIBE)


@functools.cache
def _facts_sql(nulls: int, primary: str) -> str:
    """Return ``UNION ALL`` rows for the trial facts that hold, each padded with ``nulls``
    NULL columns: the reader's primary address is verified (as
    ``accounts.selectors.email_address_verified`` asks; ``primary`` is that column's quoted
    name), a trial was had by this address (its hash, as ``trial_claim`` asks).
    Parameters: the reader's id, their address's hash.
    """
    addresses = EmailAddress._meta.db_table
    trials = Trial._meta.db_table
    pad = ", NULL" * nulls
    return (
        f" UNION ALL SELECT '{EMAIL_VERIFIED}'{pad} FROM {addresses} a"  # noqa: S608
        f" WHERE a.user_id = %s AND a.{primary} AND a.verified"
        f" UNION ALL SELECT '{TRIAL_TAKEN}'{pad} FROM {trials} t WHERE t.email_hash = %s"
    )


@functools.cache
def _credits_sql(nulls: int) -> str:
    """Return a ``UNION ALL`` row ``CREDITS`` + the balance, padded with ``nulls`` NULL
    columns, when the reader has unspent credits. Parameter: the reader's id."""
    accounts = CreditAccount._meta.db_table
    pad = ", NULL" * nulls
    return (
        f" UNION ALL SELECT '{CREDITS}' || k.balance{pad} FROM {accounts} k"  # noqa: S608
        " WHERE k.user_id = %s AND k.balance > 0"
    )


@functools.cache
def _live_sources_sql(*, facts: bool, primary: str, article: str = "%s", title: str = "%s") -> str:
    """Return the SQL of the reader's live entitlements as (source, covers the article): the
    question ``live(at)`` and ``covering(title_id)`` ask in the ORM (an entitlement to one
    article covers that article only); then the reader's credits (``_credits_sql``); with
    ``facts``, then the trial facts (``_facts_sql``).

    Parameters: the article's id and the title's id (unless ``article`` and ``title`` name
    columns of an outer query), the reader's id, ``at`` twice, the reader's id, then the
    facts'. Table names come from the models' metadata, never from input.
    """
    entitlements = Entitlement._meta.db_table
    covered = Entitlement.titles.through._meta.db_table
    sql = (
        "SELECT DISTINCT e.source AS source, CASE WHEN e.article_id IS NOT NULL"  # noqa: S608
        f" THEN e.article_id = {article} ELSE (e.all_titles OR EXISTS (SELECT 1"
        f" FROM {covered} c WHERE c.entitlement_id = e.id AND c.title_id = {title})) END"
        f" AS covers FROM {entitlements} e"
        " WHERE e.user_id = %s AND e.starts_at <= %s AND e.ends_at > %s"
    )
    return sql + _credits_sql(1) + (_facts_sql(1, primary) if facts else "")


# The annotation ``with_reader_access`` adds: "<reader id>|" and then the rows of
# ``_live_sources_sql`` joined by commas, each "+" (covers the article) or "-" and its source.
ACCESS_ROWS = "reader_access_rows"
_AGGREGATE = {"postgresql": "string_agg", "sqlite": "group_concat"}


@functools.cache
def _access_rows_sql(*, facts: bool, primary: str, vendor: str) -> str:
    """Return ``ACCESS_ROWS`` as SQL for the article of the outer query (its title joined),
    NULL for an open article, whose read asks nothing. Parameters: the reader's id, then as
    ``_live_sources_sql``'s from the reader's id on."""
    article, title = Article._meta.db_table, Title._meta.db_table
    rows = _live_sources_sql(
        facts=facts, primary=primary, article=f"{article}.id", title=f"{article}.title_id"
    )
    joined = f"{_AGGREGATE[vendor]}(CASE WHEN r.covers THEN '+' ELSE '-' END || r.source, ',')"
    return (
        f"CASE WHEN {article}.is_free OR NOT {title}.is_premium THEN NULL"  # noqa: S608
        f" ELSE %s || '|' || COALESCE((SELECT {joined} FROM ({rows}) r), '') END"
    )


@functools.cache
def _coverage_sql(*, facts: bool, primary: str) -> str:
    """Return the SQL of the reader's live entitlements as (source, all titles, a title it
    covers, the one article it opens), one row per covered title; with ``facts``, then the
    trial facts.

    Parameters: the reader's id, ``at`` twice, then the facts'."""
    entitlements = Entitlement._meta.db_table
    covered = Entitlement.titles.through._meta.db_table
    sql = (
        "SELECT e.source, e.all_titles AND e.article_id IS NULL,"  # noqa: S608
        f" c.title_id, e.article_id FROM {entitlements} e"
        f" LEFT JOIN {covered} c ON c.entitlement_id = e.id"
        " WHERE e.user_id = %s AND e.starts_at <= %s AND e.ends_at > %s"
    )
    return sql + (_facts_sql(3, primary) if facts else "")


def _statement(
    reader: Any,
    sql: Callable[..., str],
    first: list[Any],
    at: datetime | None,
    then: list[Any] | None = None,
    **options: str,
) -> tuple[str, list[Any]]:
    """Return one of the statements above for the reader, live at ``at`` (now by default),
    with its parameters: ``first``, the reader and the moment, ``then``, the trial facts'.

    Hand-written SQL, one statement: on every gated read the ORM spent more than twice the
    query's own round trip building and compiling it (``bench/gated_read.py``). It uses the
    ``(user, ends_at)`` index, allauth's ``user`` index and the trial's ``email_hash``.
    The trial facts are asked only of a reader with no trial on this account.
    """
    connection = connections[router.db_for_read(Entitlement)]
    moment = Entitlement._meta.get_field("ends_at").get_db_prep_value(
        at or timezone.now(), connection
    )
    facts = reader.trial_used_at is None
    params = [*first, reader.pk, moment, moment, *(then or [])]
    if facts:
        params += [reader.pk, email_hash(reader.email)]
    primary = connection.ops.quote_name("primary")  # a reserved word
    return sql(facts=facts, primary=primary, **options), params


def _rows(reader: Any, sql: Callable[..., str], *args: Any) -> Any:
    """Run ``_statement(reader, sql, *args)``; return its rows."""
    statement, params = _statement(reader, sql, *args)
    with connections[router.db_for_read(Entitlement)].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def with_reader_access(articles: QuerySet[Article], *, reader: Any) -> QuerySet[Article]:
    """Have ``articles`` (their title joined) bring what ``article_access`` asks for
    ``reader`` now, in their own statement: deciding then costs no query of its own.

    Nothing changes for a reader who is not signed in (deciding costs no query then)."""
    if not _signed_in(reader):
        return articles
    vendor = connections[router.db_for_read(Entitlement)].vendor
    sql, params = _statement(
        reader, _access_rows_sql, [str(reader.pk)], None, [reader.pk], vendor=vendor
    )
    # The SQL is built from the models' table names; everything from the reader is a parameter.
    return articles.annotate(**{ACCESS_ROWS: RawSQL(sql, params)})  # noqa: S611


def _rows_brought(article: Article, reader: Any) -> list[tuple[str, bool]] | None:
    """The rows ``with_reader_access`` brought with the article for this reader, if any."""
    brought = getattr(article, ACCESS_ROWS, None)
    if brought is None:
        return None
    reader_id, _, rows = brought.partition("|")
    if reader_id != str(reader.pk):
        return None
    return [(row[1:], row[0] == "+") for row in rows.split(",") if row]


def article_access(*, reader: Any, article: Article, at: datetime | None = None) -> AccessDecision:
    """Decide whether ``reader`` may read ``article`` at ``at`` (now by default).

    Costs no query for an open article or an anonymous reader, nor for an article loaded
    ``with_reader_access`` for this reader (deciding now), and one indexed query otherwise;
    the rest of the denial reason comes from columns of the loaded user. A denial carries
    the reader's unspent ``credits`` (asked in the same query). ``article.title`` must be
    loaded (``select_related``).
    """
    if article.is_open:
        return FREE
    if not _signed_in(reader):
        return SIGN_UP
    rows = None if at is not None else _rows_brought(article, reader)
    if rows is None:
        rows = _rows(reader, _live_sources_sql, [article.pk, article.title_id], at, [reader.pk])
    credits = next((int(s[len(CREDITS) :]) for s, _ in rows if s.startswith(CREDITS)), 0)
    covering = {source for source, covers in rows if covers}
    decision = _decision(covering, {source for source, _ in rows}, reader)
    return decision if decision.granted or not credits else replace(decision, credits=credits)


@dataclass
class ReaderCoverage:
    """Everything a reader's live entitlements open, loaded once for a list of articles."""

    reader: Any
    all_titles_sources: set[str] = field(default_factory=set)
    sources_by_title: dict[int, set[str]] = field(default_factory=dict)
    sources_by_article: dict[int, set[str]] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)

    def decide(self, article: Article) -> AccessDecision:
        """Decide for one article without a query (``article.title`` must be loaded)."""
        if article.is_open:
            return FREE
        if not _signed_in(self.reader):
            return SIGN_UP
        sources = (
            self.all_titles_sources
            | self.sources_by_title.get(article.title_id, set())
            | self.sources_by_article.get(article.pk, set())
        )
        return _decision(sources, self.present, self.reader)


def reader_coverage(*, reader: Any, at: datetime | None = None) -> ReaderCoverage:
    """Load what the reader's live entitlements cover, in at most one query."""
    coverage = ReaderCoverage(reader=reader)
    if not _signed_in(reader):
        return coverage
    for source, all_titles, title_id, article_id in _rows(reader, _coverage_sql, [], at):
        coverage.present.add(source)
        if article_id is not None:
            coverage.sources_by_article.setdefault(article_id, set()).add(source)
        elif all_titles:
            coverage.all_titles_sources.add(source)
        elif title_id is not None:
            coverage.sources_by_title.setdefault(title_id, set()).add(source)
    return coverage
