"""Recording engaged reading: one ledger row per reader, article and day, one upsert."""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from core.errors import ApplicationError
from membership.models import Article
from publishers.models import ReadRow
from publishers.sources import read_source


@dataclass(frozen=True)
class ReadReport:
    counted: bool
    seconds: int = 0
    qualified: bool = False
    source: str = ""


@functools.cache
def _upsert_sql() -> str:
    """The insert-or-accumulate statement (PostgreSQL and SQLite alike). Parameters: user,
    article, title, day, source, seconds, progress, qualified, first_at, last_at, then the
    day cap twice, the qualifying seconds and progress. Table and column names come from the
    model's metadata."""
    table = ReadRow._meta.db_table
    total = f"{table}.seconds + EXCLUDED.seconds"
    capped = f"CASE WHEN {total} > %s THEN %s ELSE {total} END"
    return (
        f"INSERT INTO {table} (user_id, article_id, title_id, day, source, seconds,"  # noqa: S608
        " progress, qualified, first_at, last_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (user_id, article_id, day) DO UPDATE SET"
        f" seconds = {capped},"
        f" progress = CASE WHEN EXCLUDED.progress > {table}.progress"
        f" THEN EXCLUDED.progress ELSE {table}.progress END,"
        f" qualified = ({table}.qualified OR {total} >= %s OR EXCLUDED.progress >= %s),"
        " source = EXCLUDED.source, last_at = EXCLUDED.last_at"
        " RETURNING seconds, qualified"
    )


def read_record(
    *,
    reader: Any,
    article: Article,
    seconds: int,
    progress: float,
    device_id: str | None = None,
    gift_token: str | None = None,
    at: datetime | None = None,
) -> ReadReport:
    """Add one report of engaged reading to the reader's ledger row for the article today.

    Counts only when the reader may read the body now (with the source of that access);
    an open article is not counted. Seconds are capped per report
    (``READ_REPORT_MAX_SECONDS``) and per row (``READ_DAY_MAX_SECONDS``); the row
    qualifies at ``READ_QUALIFY_SECONDS`` or ``READ_QUALIFY_PROGRESS``. One statement,
    atomic by itself, so no transaction is opened.
    Raises ``ApplicationError`` (403 ``read_not_granted``) when the body is not theirs.
    """
    if not article.is_open:
        source = read_source(
            reader=reader, article=article, device_id=device_id, gift_token=gift_token
        )
        if source is None:
            raise ApplicationError(
                code="read_not_granted",
                message="This article's body is not open to you.",
                status=403,
            )
    else:
        return ReadReport(counted=False)
    moment = at or timezone.now()
    seconds = max(0, min(seconds, settings.READ_REPORT_MAX_SECONDS))
    progress = max(0.0, min(progress, 1.0))
    day_cap = settings.READ_DAY_MAX_SECONDS
    qualify_seconds = settings.READ_QUALIFY_SECONDS
    qualify_progress = settings.READ_QUALIFY_PROGRESS
    qualified = seconds >= qualify_seconds or progress >= qualify_progress
    connection = connections[router.db_for_write(ReadRow)]
    field = ReadRow._meta.get_field("first_at")
    stamp = field.get_db_prep_value(moment, connection)
    day = moment.astimezone(UTC).date().isoformat()
    params = [
        reader.pk,
        article.pk,
        article.title_id,
        day,
        source,
        min(seconds, day_cap),
        progress,
        qualified,
        stamp,
        stamp,
        day_cap,
        day_cap,
        qualify_seconds,
        qualify_progress,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), params)
        total, is_qualified = cursor.fetchone()
    return ReadReport(counted=True, seconds=total, qualified=bool(is_qualified), source=source)
