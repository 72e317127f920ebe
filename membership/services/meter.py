"""The meter's writes: count a free read once per article and month, and merge a device's
reads into the reader's account when they sign in or sign up."""

import functools
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from membership.meter_models import MeterCount, MeterRead
from membership.models import Article, Title


class _Spent(Exception):
    """The limit is reached: undo the read just inserted."""


@functools.cache
def _statements() -> tuple[str, str, str, str]:
    """The meter's SQL, table names from the models: the count in a transaction of two
    statements (SQLite 3.35+; PostgreSQL has a function, ``_COUNT``), the count read, the
    peek."""
    reads = MeterRead._meta.db_table
    counts = MeterCount._meta.db_table
    insert_read = (
        f"INSERT INTO {reads} (subject, article_id, month, read_at)"  # noqa: S608
        " VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (subject, article_id, month) DO NOTHING RETURNING id"
    )
    # The row lock taken by the upsert makes parallel reads of one subject take turns, and
    # each sees the count the one before it left.
    count_up = (
        f"INSERT INTO {counts} (subject, month, used) VALUES (%s, %s, 1)"  # noqa: S608
        f" ON CONFLICT (subject, month) DO UPDATE SET used = {counts}.used + 1"
        f" WHERE {counts}.used < %s RETURNING used"
    )
    used = f"SELECT used FROM {counts} WHERE subject = %s AND month = %s"  # noqa: S608
    peek = (
        f"SELECT ({used}),"  # noqa: S608
        f" EXISTS (SELECT 1 FROM {reads} WHERE subject = %s AND article_id = %s AND month = %s)"
    )
    return insert_read, count_up, used, peek


# PostgreSQL counts with the function of migration 0011 (one statement, its plan kept):
# ``seen``: the article was counted this month before; otherwise the month's count goes up by
# one under its row lock unless the limit is reached, and only then the read is recorded (its
# one ``INSERT ... ON CONFLICT DO NOTHING``). It answers {seen, used after counting or NULL
# when refused, reads inserted, used as the statement began}. Parameters: subject, article,
# month, at, limit, own transaction.
#
# In its own transaction (autocommit) the count's commit does not wait for the write-ahead log
# to reach the disk (``synchronous_commit`` off for that transaction only): the wait was a
# third of a counted read's time (``bench/metered_read.py``). The count stays exact, since the
# row lock decides it; a database crash can lose the last fraction of a second of counted
# reads (at most three ``wal_writer_delay``), so a few readers could read one more article
# free. Inside a caller's transaction nothing changes.

# The annotation ``with_meter_count`` adds to an article: that array, NULL when not metered.
METER_COUNT = "meter_count"


class MeterAsk(NamedTuple):
    """A free read to count: whose, in which month, under which limit, when."""

    subject: str
    month: date
    limit: int
    at: datetime


def _count_call(ask: MeterAsk, connection: Any, article_id: int | None) -> tuple[str, list[Any]]:
    """Return the function's call counting ``ask`` and its parameters: for ``article_id``,
    or for the article of the outer query when None."""
    article = f"{Article._meta.db_table}.id" if article_id is None else "%s"
    params = [ask.subject, *([] if article_id is None else [article_id])]
    params += [ask.month, ask.at, ask.limit, not connection.in_atomic_block]
    return f"membership_meter_count(%s, {article}, %s, %s, %s, %s)", params


def with_meter_count(articles: QuerySet[Article], *, ask: MeterAsk) -> QuerySet[Article]:
    """Have ``articles`` (their title joined) count the free read ``ask`` in their own
    statement when the article is metered (premium, not free, its title not never metered),
    so ``meter_read_count`` then asks nothing (``meter_count_brought``). PostgreSQL only;
    elsewhere ``articles`` is returned as it is."""
    connection = connections[router.db_for_write(MeterRead)]
    if connection.vendor != "postgresql":
        return articles
    article, title = Article._meta.db_table, Title._meta.db_table
    metered = f"NOT {article}.is_free AND {title}.is_premium AND NOT {title}.never_metered"
    call, params = _count_call(ask, connection, None)
    # Built from the models' table names; everything about the read is a parameter.
    sql = RawSQL(f"CASE WHEN {metered} THEN {call} END", params)  # noqa: S611
    return articles.annotate(**{METER_COUNT: sql})


def meter_count_brought(article: Article) -> Any:
    """The count ``with_meter_count`` made with the article, or None."""
    return getattr(article, METER_COUNT, None)


def _count_outcome(
    connection: Any, outcome: Any, *, subject: str, article_id: int, month: date
) -> tuple[bool, int]:
    """Read the function's answer; a parallel read of the same article (both saw it unread)
    costs a second statement."""
    seen, used, inserted, before = outcome
    if seen:  # a re-read
        return True, int(before or 0)
    if used is not None and inserted:  # counted
        return True, int(used)
    *_, peek = _statements()
    with connection.cursor() as cursor:
        if used is not None:  # a parallel read recorded it first: give the count back
            cursor.execute(
                f"UPDATE {MeterCount._meta.db_table} SET used = used - 1"  # noqa: S608
                " WHERE subject = %s AND month = %s RETURNING used",
                [subject, month],
            )
            return True, int(cursor.fetchone()[0])
        # Refused: the limit is reached, unless a parallel read counted this article.
        cursor.execute(peek, [subject, month, subject, article_id, month])
        now_used, counted = cursor.fetchone()
    return bool(counted), max(int(now_used or 0), int(before or 0))


def meter_read_count(
    *,
    subject: str,
    article_id: int,
    month: date,
    limit: int,
    at: datetime | None = None,
    brought: Any = None,
) -> tuple[bool, int]:
    """Count a free read of the article for ``subject`` this month if the limit allows.

    Return (granted, used this month). A re-read of an article counted this month is granted
    and costs nothing; a new one is counted by one insert, or refused (and nothing written)
    when ``limit`` articles were read already, even by parallel requests. ``brought``: the
    count ``with_meter_count`` already made in the article's statement for this read.
    """
    connection = connections[router.db_for_write(MeterRead)]
    if connection.vendor == "postgresql":
        if brought is None:
            ask = MeterAsk(subject=subject, month=month, limit=limit, at=at or timezone.now())
            call, params = _count_call(ask, connection, article_id)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {call}", params)
                brought = cursor.fetchone()[0]
        return _count_outcome(
            connection, brought, subject=subject, article_id=article_id, month=month
        )
    insert_read, count_up, used_sql, _ = _statements()
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(insert_read, [subject, article_id, month, at or timezone.now()])
            if cursor.fetchone() is None:  # read earlier this month
                cursor.execute(used_sql, [subject, month])
                row = cursor.fetchone()
                return True, int(row[0]) if row else 0
            cursor.execute(count_up, [subject, month, limit])
            row = cursor.fetchone()
            if row is None:
                raise _Spent
            return True, int(row[0])
    except _Spent:
        pass
    with connection.cursor() as cursor:
        cursor.execute(used_sql, [subject, month])
        row = cursor.fetchone()
    return False, int(row[0]) if row else limit


def meter_read_peek(*, subject: str, article_id: int, month: date) -> tuple[bool, int]:
    """Return (counted this month already, used this month) without writing."""
    *_, peek = _statements()
    connection = connections[router.db_for_read(MeterRead)]
    with connection.cursor() as cursor:
        cursor.execute(peek, [subject, month, subject, article_id, month])
        used, counted = cursor.fetchone()
    return bool(counted), int(used or 0)


@transaction.atomic
def meter_reads_merge(*, device_subject: str, user_subject: str, month: date) -> int:
    """Give the reader's account this month's free reads of their device, once each (an
    article both read counts once), and return the account's count after the merge.

    The device keeps its reads, so signing out does not refill its allowance.
    """
    counter, _ = MeterCount.objects.select_for_update().get_or_create(
        subject=user_subject, month=month
    )
    article_ids = list(
        MeterRead.objects.filter(subject=device_subject, month=month).values_list(
            "article_id", flat=True
        )
    )
    if not article_ids:
        return counter.used
    MeterRead.objects.bulk_create(
        [MeterRead(subject=user_subject, article_id=pk, month=month) for pk in article_ids],
        ignore_conflicts=True,
    )
    counter.used = MeterRead.objects.filter(subject=user_subject, month=month).count()
    counter.save(update_fields=["used"])
    return counter.used
