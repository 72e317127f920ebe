"""Closing a month: the pool per currency, shared out reader by reader, one statement per title.

Allocation is reader-centric. Each paying reader's net payment this month (``revenue_net``)
is split across the titles that reader read, by engaged seconds under an earning source
(``publishers.sources``); trial, comp, metered and gift-link reads, and reads by readers who
paid nothing this month, are recorded on the statement but earn nothing. A title's share
of the pool is the pool times its share of all paying readers' money so split; money of
paying readers who read nothing follows the same proportions.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, Q, Sum
from django.db.models.functions import Coalesce

from membership.models import Title
from publishers.models import (
    Adjustment,
    LineKind,
    MonthClose,
    PayoutPool,
    ReaderPayment,
    ReadRow,
    Statement,
    StatementLine,
)
from publishers.revenue import revenue_net
from publishers.sources import UNPAID_SOURCES

ROUNDING_RULE = (
    "Each title's exact share of the pool is rounded down to the minor unit; the units left "
    "over go one each to the titles with the largest fractions cut off (ties: the lower "
    "title id first), so the amounts add up exactly to the pool. The pool itself is the "
    "share of net revenue rounded down."
)


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_next(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_previous(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def largest_remainder(total: int, weights: dict[int, float]) -> dict[int, int]:
    """Split ``total`` minor units in proportion to ``weights`` (by key), adding up to it."""
    weight_sum = sum(weights.values())
    if total <= 0 or weight_sum <= 0:
        return {key: 0 for key in weights}
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    shares = {key: math.floor(value) for key, value in exact.items()}
    left = total - sum(shares.values())
    by_fraction = sorted(exact, key=lambda key: (-(exact[key] - shares[key]), key))
    for key in by_fraction[:left]:
        shares[key] += 1
    return shares


@dataclass
class _Tally:
    """Reads, seconds and readers of one statement line as it is built."""

    reads: int = 0
    seconds: int = 0
    readers: int = 0

    def add(self, reads: int, seconds: int) -> None:
        self.reads += reads
        self.seconds += seconds
        self.readers += 1


@dataclass
class _Month:
    paid: dict[tuple[int, str], _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    unpaid: dict[int, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    totals: dict[int, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    amounts: dict[tuple[int, str], int] = field(default_factory=dict)


def _groups(rows: Any) -> Any:
    """Per reader and title: earning and unpaid seconds and qualifying reads."""
    earning = ~Q(source__in=UNPAID_SOURCES)
    return (
        rows.values("user_id", "title_id")
        .annotate(
            earn_seconds=Coalesce(Sum("seconds", filter=earning), 0, output_field=IntegerField()),
            earn_reads=Count("id", filter=earning & Q(qualified=True)),
            earn_rows=Count("id", filter=earning),
            seconds=Sum("seconds"),
            reads=Count("id", filter=Q(qualified=True)),
            rows=Count("id"),
        )
        .order_by()
    )


def _payers(by_reader: dict[str, dict[int | None, int]]) -> dict[int, str]:
    """Each paying reader's main currency (where they paid most)."""
    best: dict[int, tuple[int, str]] = {}
    for currency, readers in sorted(by_reader.items()):
        for user_id, amount in readers.items():
            if user_id is not None and amount > 0 and amount > best.get(user_id, (0, ""))[0]:
                best[user_id] = (amount, currency)
    return {user_id: currency for user_id, (_, currency) in best.items()}


def _allocate(
    month: _Month,
    currency: str,
    pool: int,
    readers: dict[int | None, int],
    earning: dict[int, dict[int, int]],
) -> int:
    """Share ``pool`` among titles through each paying reader's money; return what went out."""
    weights: dict[int, float] = defaultdict(float)
    for user_id, paid in readers.items():
        seconds = earning.get(user_id) if user_id is not None and paid > 0 else None
        total = sum(seconds.values()) if seconds else 0
        if not seconds or total <= 0:
            continue
        for title_id, title_seconds in seconds.items():
            weights[title_id] += paid * title_seconds / total
    shares = largest_remainder(pool, dict(weights))
    for title_id, amount in shares.items():
        month.amounts[(title_id, currency)] = amount
    return sum(shares.values())


def _write(close: MonthClose, month: _Month, adjustments: list[Adjustment]) -> list[Statement]:
    """Write the statements and their lines, and take up the pending adjustments."""
    title_ids = set(month.totals) | {a.title_id for a in adjustments}
    title_ids |= {title_id for title_id, _ in month.amounts}
    statements = {
        title_id: Statement(
            title_id=title_id,
            month=close.month,
            qualifying_reads=month.totals[title_id].reads if title_id in month.totals else 0,
            engaged_seconds=month.totals[title_id].seconds if title_id in month.totals else 0,
            readers=month.totals[title_id].readers if title_id in month.totals else 0,
            closed_at=close.closed_at,
        )
        for title_id in sorted(title_ids)
    }
    Statement.objects.bulk_create(statements.values())
    lines: list[StatementLine] = []
    for key in sorted(set(month.paid) | set(month.amounts)):
        title_id, currency = key
        tally = month.paid.get(key, _Tally())
        lines.append(_line(statements[title_id], LineKind.READS, tally, currency))
        lines[-1].amount = month.amounts.get(key, 0)
    for title_id, tally in sorted(month.unpaid.items()):
        lines.append(_line(statements[title_id], LineKind.UNPAID, tally))
    adjustment_lines = [
        (a, _line(statements[a.title_id], LineKind.ADJUSTMENT, _Tally(), a.currency))
        for a in adjustments
    ]
    for adjustment, line in adjustment_lines:
        line.amount, line.note = adjustment.amount, adjustment.reason
    StatementLine.objects.bulk_create([*lines, *(line for _, line in adjustment_lines)])
    for adjustment, line in adjustment_lines:
        Adjustment.objects.filter(pk=adjustment.pk).update(line=line)
    return list(statements.values())


def _line(statement: Statement, kind: str, tally: _Tally, currency: str = "") -> StatementLine:
    return StatementLine(
        statement=statement,
        kind=kind,
        currency=currency,
        qualifying_reads=tally.reads,
        engaged_seconds=tally.seconds,
        readers=tally.readers,
    )


@transaction.atomic
def month_close(*, month: date, at: datetime | None = None) -> MonthClose:
    """Close ``month`` (any day in it) once: its pools, reader payments and one statement
    per title read (or adjusted), every ledger row of the month counted on one line. A
    month already closed is returned as it is; a month not yet over is refused
    (ValueError), so no row of a closed month can still change."""
    start = month_start(month)
    end = month_next(start)
    moment = at or datetime.now(tz=UTC)
    if moment.date() < end:
        raise ValueError(f"{start:%B %Y} is not over yet.")
    close, created = MonthClose.objects.get_or_create(
        month=start, defaults={"closed_at": moment, "rounding": ROUNDING_RULE}
    )
    if not created:
        return close
    revenue = revenue_net(
        start=datetime.combine(start, datetime.min.time(), UTC),
        end=datetime.combine(end, datetime.min.time(), UTC),
    )
    payers = _payers(revenue.by_reader)
    state = _Month()
    rows = ReadRow.objects.filter(day__gte=start, day__lt=end)
    earning = _tally_groups(state, rows, payers)
    share = Decimal(settings.PUBLISHER_SHARE)
    pools = []
    for currency, net in sorted(revenue.net.items()):
        pool = int((Decimal(max(net, 0)) * share).to_integral_value(rounding="ROUND_FLOOR"))
        readers = revenue.by_reader.get(currency, {})
        allocated = _allocate(state, currency, pool, readers, earning)
        pools.append(
            PayoutPool(
                close=close,
                month=start,
                currency=currency,
                net_revenue=net,
                share=share,
                amount=pool,
                allocated=allocated,
                paying_readers=sum(1 for u, p in readers.items() if u is not None and p > 0),
            )
        )
    PayoutPool.objects.bulk_create(pools)
    ReaderPayment.objects.bulk_create(
        ReaderPayment(
            close=close,
            user_id=user_id,
            currency=currency,
            amount=amount,
            engaged_seconds=sum(earning.get(user_id, {}).values()),
            is_primary=payers.get(user_id) == currency,
        )
        for currency, readers in sorted(revenue.by_reader.items())
        for user_id, amount in readers.items()
        if user_id is not None and amount > 0
    )
    pending = list(Adjustment.objects.filter(line__isnull=True).order_by("id"))
    _write(close, state, pending)
    return close


def _tally_groups(state: _Month, rows: Any, payers: dict[int, str]) -> dict[int, dict[int, int]]:
    """Fill the month's line tallies from the ledger, one grouped query."""
    earning: dict[int, dict[int, int]] = defaultdict(dict)
    for g in _groups(rows).iterator(chunk_size=5000):
        user_id, title_id = g["user_id"], g["title_id"]
        state.totals[title_id].add(g["reads"], g["seconds"])
        currency = payers.get(user_id)
        if currency and g["earn_rows"]:
            state.paid[(title_id, currency)].add(g["earn_reads"], g["earn_seconds"])
            earning[user_id][title_id] = g["earn_seconds"]
            if g["rows"] > g["earn_rows"]:
                state.unpaid[title_id].add(
                    g["reads"] - g["earn_reads"], g["seconds"] - g["earn_seconds"]
                )
        else:
            state.unpaid[title_id].add(g["reads"], g["seconds"])
    return earning


def adjustment_create(
    *, title: Title, currency: str, amount: int, reason: str, actor: Any = None
) -> Adjustment:
    """Record a correction for a title: it appears on the next statement closed."""
    if not reason.strip():
        raise ValueError("An adjustment needs its reason.")
    return Adjustment.objects.create(
        title=title, currency=currency.lower(), amount=amount, reason=reason, created_by=actor
    )
