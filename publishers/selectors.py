"""Reads of the ledger and statements, scoped to what the viewer may see."""

import csv
import io
from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from publishers.models import (
    LineKind,
    ReaderPayment,
    ReadRow,
    Statement,
    StatementLine,
    TitleStaff,
)
from publishers.sources import UNPAID_SOURCES


def publisher_viewer(*, user: Any) -> bool:
    """Whether the user may see statements: a superuser, or staff attached to a title."""
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return False
    return bool(user.is_superuser) or TitleStaff.objects.filter(user=user).exists()


def visible_title_ids(*, user: Any) -> list[int] | None:
    """The ids of the titles whose figures the user sees; None means every title."""
    if user.is_superuser:
        return None
    if not user.is_staff:
        return []
    return list(TitleStaff.objects.filter(user=user).values_list("title_id", flat=True))


def _scoped(user: Any) -> QuerySet[Statement]:
    statements = Statement.objects.select_related("title").prefetch_related(
        Prefetch("lines", queryset=StatementLine.objects.order_by("kind", "currency", "id"))
    )
    title_ids = visible_title_ids(user=user)
    if title_ids is not None:
        statements = statements.filter(title_id__in=title_ids)
    return statements.order_by("-month", "title__name", "id")


def statement_list(
    *, viewer: Any, title: str | None = None, month: str | None = None
) -> QuerySet[Statement]:
    """The viewer's statements, newest month first; by title slug and month (YYYY-MM)."""
    statements = _scoped(viewer)
    if title:
        statements = statements.filter(title__slug=title)
    if month:
        year, number = (int(part) for part in month.split("-"))
        statements = statements.filter(month=date(year, number, 1))
    return statements


def statement_get(*, viewer: Any, statement_id: int) -> Statement:
    """One of the viewer's statements; a statement of another title is a 404, like none."""
    statement = _scoped(viewer).filter(pk=statement_id).first()
    if statement is None:
        raise Http404("No such statement.")
    return statement


def statement_amounts(*, statement: Statement) -> dict[str, int]:
    """What the statement owes per currency (its lines summed; lines must be prefetched)."""
    amounts: dict[str, int] = {}
    for line in statement.lines.all():
        if line.currency:
            amounts[line.currency] = amounts.get(line.currency, 0) + line.amount
    return amounts


def statement_line_rows(*, line: StatementLine) -> QuerySet[ReadRow]:
    """The ledger rows a statement line counted: for a reads line, the rows under an
    earning source of the readers whose main payment that month was in its currency; for
    the unpaid line, the statement's other rows; none for an adjustment."""
    statement = line.statement
    start = statement.month
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    rows = ReadRow.objects.filter(title_id=statement.title_id, day__gte=start, day__lt=end)
    payers = ReaderPayment.objects.filter(close__month=start, is_primary=True)
    earning = ~Q(source__in=UNPAID_SOURCES)
    if line.kind == LineKind.READS:
        paid = payers.filter(currency=line.currency).values("user_id")
        return rows.filter(earning, user_id__in=Subquery(paid))
    if line.kind == LineKind.UNPAID:
        paid = payers.values("user_id")
        return rows.exclude(earning & Q(user_id__in=Subquery(paid)))
    return rows.none()


def statement_csv(*, statement: Statement) -> str:
    """The statement as CSV: a row per line, then the ledger rows each line counted
    (day, reader number, article, source, seconds, qualified), so every figure is traced."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["title", statement.title.slug, "month", f"{statement.month:%Y-%m}"])
    writer.writerow(["line", "kind", "currency", "reads", "seconds", "readers", "amount", "note"])
    lines = list(statement.lines.all())
    for line in lines:
        writer.writerow(
            [
                line.pk,
                line.kind,
                line.currency,
                line.qualifying_reads,
                line.engaged_seconds,
                line.readers,
                line.amount,
                line.note,
            ]
        )
    writer.writerow([])
    writer.writerow(["line", "day", "reader", "article", "source", "seconds", "qualified"])
    for line in lines:
        rows = (
            statement_line_rows(line=line)
            .order_by("day", "user_id", "article_id")
            .values_list("day", "user_id", "article_id", "source", "seconds", "qualified")
        )
        for row in rows.iterator(chunk_size=2000):
            writer.writerow([line.pk, *row])
    return out.getvalue()
