"""The meter's writes: count a free read once per article and month, and merge a device's
reads into the reader's account when they sign in or sign up."""

import functools
from datetime import date, datetime
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from membership.meter_models import MeterCount, MeterRead


class _Spent(Exception):
    """The limit is reached: undo the read just inserted."""


@functools.cache
def _statements() -> tuple[str, str, str, str]:
    """The meter's SQL, table names from the models: the count in a transaction of two
    statements (SQLite 3.35+; PostgreSQL uses ``_one_statement``), the count read, the peek."""
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


@functools.cache
def _one_statement(*, own_transaction: bool) -> str:
    """PostgreSQL: the whole count in one statement (one round trip, no explicit transaction).

    ``seen``: the article was counted this month before; otherwise ``counted`` adds one to
    the month's count under its row lock unless the limit is reached, and only then
    ``inserted`` records the read (its one ``INSERT ... ON CONFLICT DO NOTHING``). The last
    column is the count as the statement began. Named parameters: subject, article, month,
    at, limit.

    With ``own_transaction`` (the statement commits by itself) its commit does not wait for
    the write-ahead log to reach the disk (``synchronous_commit`` off for this transaction
    only): that wait was a third of a counted read's time (``bench/metered_read.py``). The
    count stays exact, since the row lock decides it; a database crash can lose the last
    fraction of a second of counted reads (at most three ``wal_writer_delay``), so a few
    readers could read one more article free. Inside a caller's transaction nothing changes.
    """
    reads = MeterRead._meta.db_table
    counts = MeterCount._meta.db_table
    this_month = "subject = %(subject)s AND month = %(month)s"
    return (
        "WITH seen AS (SELECT EXISTS (SELECT 1"  # noqa: S608
        f" FROM {reads} WHERE {this_month} AND article_id = %(article)s) AS yes),"
        f" counted AS (INSERT INTO {counts} AS c (subject, month, used)"
        " SELECT %(subject)s, %(month)s, 1 FROM seen WHERE NOT seen.yes"
        " ON CONFLICT (subject, month) DO UPDATE SET used = c.used + 1"
        " WHERE c.used < %(limit)s RETURNING c.used),"
        f" inserted AS (INSERT INTO {reads} (subject, article_id, month, read_at)"
        " SELECT %(subject)s, %(article)s, %(month)s, %(at)s FROM counted"
        " ON CONFLICT (subject, article_id, month) DO NOTHING RETURNING id)"
        " SELECT (SELECT yes FROM seen), (SELECT used FROM counted),"
        f" (SELECT count(*) FROM inserted), (SELECT used FROM {counts} WHERE {this_month})"
        + (", set_config('synchronous_commit', 'off', true)" if own_transaction else "")
    )


def _count_in_one_statement(
    connection: Any, *, subject: str, article_id: int, month: date, limit: int, at: datetime
) -> tuple[bool, int]:
    """``meter_read_count`` on PostgreSQL: one statement on the usual paths; a parallel read
    of the same article (both saw it unread) costs a second one."""
    params = {"subject": subject, "article": article_id, "month": month, "at": at}
    with connection.cursor() as cursor:
        sql = _one_statement(own_transaction=not connection.in_atomic_block)
        cursor.execute(sql, {**params, "limit": limit})
        seen, used, inserted, before, *_ = cursor.fetchone()
        if seen:  # a re-read
            return True, int(before or 0)
        if used is not None and inserted:  # counted
            return True, int(used)
        *_, peek = _statements()
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
    *, subject: str, article_id: int, month: date, limit: int, at: datetime | None = None
) -> tuple[bool, int]:
    """Count a free read of the article for ``subject`` this month if the limit allows.

    Return (granted, used this month). A re-read of an article counted this month is granted
    and costs nothing; a new one is counted by one insert, or refused (and nothing written)
    when ``limit`` articles were read already, even by parallel requests.
    """
    connection = connections[router.db_for_write(MeterRead)]
    if connection.vendor == "postgresql":
        return _count_in_one_statement(
            connection,
            subject=subject,
            article_id=article_id,
            month=month,
            limit=limit,
            at=at or timezone.now(),
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
