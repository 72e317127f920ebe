"""The monthly close: the pool, reader-centric shares, traceable and immutable statements."""

from datetime import date

import pytest
import time_machine

from publishers.models import (
    LineKind,
    MonthClose,
    PayoutPool,
    ReaderPayment,
    ReadRow,
    Statement,
    StatementLine,
)
from publishers.selectors import statement_line_rows
from publishers.statements import adjustment_create, largest_remainder, month_close
from publishers.tasks import statements_close
from tests.factories import TitleFactory, UserFactory
from tests.publishers.history import AFTER_NOV, IN_NOV, NOV, paid, read, refunded

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 12)


@pytest.fixture
def november():  # type: ignore[no-untyped-def]
    """Two paying readers, a trial reader and a refunded reader, across three titles.

    r1 paid 999 and read A 60 s, B 180 s; r2 paid 1000 and read A 100 s; r3 read C in a
    trial; r4 paid 500, refunded 500, and read B. Net 1999, pool 999 (half, rounded down).
    """
    a, b, c = TitleFactory(slug="a"), TitleFactory(slug="b"), TitleFactory(slug="c")
    r1, r2, r3, r4 = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    paid(r1, 999, IN_NOV)
    paid(r2, 1000, IN_NOV)
    paid(r4, 500, IN_NOV)
    refunded(r4, 500, IN_NOV)
    read(r1, a, DAY, 60)
    read(r1, b, DAY, 180)
    read(r2, a, DAY, 100)
    read(r3, c, DAY, 300, source="trial")
    read(r4, b, DAY, 40)
    read(r1, c, DAY, 20, source="comp")
    return {"a": a, "b": b, "c": c}


def _owed(title) -> int:  # type: ignore[no-untyped-def]
    statement = Statement.objects.get(title=title, month=NOV)
    return sum(line.amount for line in statement.lines.all())


def test_the_pool_is_shared_reader_by_reader_and_adds_up_exactly(november) -> None:  # type: ignore[no-untyped-def]
    month_close(month=NOV, at=AFTER_NOV)

    pool = PayoutPool.objects.get(month=NOV, currency="gbp")
    assert (pool.net_revenue, pool.amount, pool.allocated, pool.paying_readers) == (
        1999,
        999,
        999,
        2,
    )
    # A: 999*60/240 + 1000 = 1249.75 of 1999 -> 624.57; B: 749.25 -> 374.43. Floors 624 +
    # 374 = 998; the unit left goes to the larger fraction (A).
    assert (_owed(november["a"]), _owed(november["b"]), _owed(november["c"])) == (625, 374, 0)


def test_unpaid_reads_are_on_the_statement_but_earn_nothing(november) -> None:  # type: ignore[no-untyped-def]
    month_close(month=NOV, at=AFTER_NOV)

    c = Statement.objects.get(title=november["c"])
    assert (c.qualifying_reads, c.engaged_seconds, c.readers) == (1, 320, 2)
    assert [(line.kind, line.amount) for line in c.lines.all()] == [(LineKind.UNPAID, 0)]
    b_unpaid = StatementLine.objects.get(statement__title=november["b"], kind=LineKind.UNPAID)
    assert (b_unpaid.engaged_seconds, b_unpaid.readers) == (40, 1)  # refunded: no payment


def test_every_ledger_row_is_traced_to_a_line_that_sums_it(november) -> None:  # type: ignore[no-untyped-def]
    month_close(month=NOV, at=AFTER_NOV)

    traced: list[int] = []
    for line in StatementLine.objects.all():
        rows = list(statement_line_rows(line=line))
        traced += [r.pk for r in rows]
        assert sum(r.seconds for r in rows) == line.engaged_seconds
        assert sum(r.qualified for r in rows) == line.qualifying_reads
        assert len({r.user_id for r in rows}) == line.readers
    assert sorted(traced) == sorted(ReadRow.objects.values_list("pk", flat=True))
    reads_a = StatementLine.objects.get(statement__title=november["a"], kind=LineKind.READS)
    assert (reads_a.currency, reads_a.engaged_seconds, reads_a.readers) == ("gbp", 160, 2)
    assert ReaderPayment.objects.filter(close__month=NOV).count() == 2


def test_closing_again_changes_nothing(november) -> None:  # type: ignore[no-untyped-def]
    first = month_close(month=NOV, at=AFTER_NOV)
    UserFactory()
    read(UserFactory(), november["a"], DAY, 500)  # a row that arrived after the close

    again = month_close(month=NOV, at=AFTER_NOV)

    assert again == first
    assert Statement.objects.count() == 3
    assert _owed(november["a"]) == 625


def test_a_closed_statement_never_changes(november) -> None:  # type: ignore[no-untyped-def]
    month_close(month=NOV, at=AFTER_NOV)
    statement = Statement.objects.get(title=november["a"])
    line = statement.lines.first()
    assert line is not None

    statement.readers = 99
    with pytest.raises(ValueError):
        statement.save()
    line.amount = 1
    with pytest.raises(ValueError):
        line.save()


def test_a_month_not_over_is_not_closed() -> None:
    with pytest.raises(ValueError):
        month_close(month=NOV, at=IN_NOV)

    assert not MonthClose.objects.exists()


def test_adjustments_go_on_the_next_statement(november) -> None:  # type: ignore[no-untyped-def]
    month_close(month=NOV, at=AFTER_NOV)
    adjustment_create(title=november["b"], currency="GBP", amount=-25, reason="Double count")

    month_close(month=date(2026, 12, 1), at=AFTER_NOV.replace(year=2027, month=1))
    month_close(month=date(2027, 1, 1), at=AFTER_NOV.replace(year=2027, month=2))

    dec_b = Statement.objects.get(title=november["b"], month=date(2026, 12, 1))
    assert [(x.kind, x.currency, x.amount) for x in dec_b.lines.all()] == [
        (LineKind.ADJUSTMENT, "gbp", -25)
    ]
    assert not Statement.objects.filter(month=date(2027, 1, 1)).exists()
    assert _owed(november["b"]) == 374  # November is as it was


def test_no_paying_reader_read_anything_leaves_the_pool_unallocated() -> None:
    payer = UserFactory()
    paid(payer, 1000, IN_NOV)
    read(UserFactory(), TitleFactory(), DAY, 100, source="trial")

    month_close(month=NOV, at=AFTER_NOV)

    pool = PayoutPool.objects.get()
    assert (pool.amount, pool.allocated) == (500, 0)
    assert sum(StatementLine.objects.values_list("amount", flat=True)) == 0


def test_pools_are_per_currency() -> None:
    title = TitleFactory()
    euro, pound = UserFactory(), UserFactory()
    paid(euro, 800, IN_NOV, currency="eur")
    paid(pound, 600, IN_NOV)
    read(euro, title, DAY, 50)
    read(pound, title, DAY, 50)

    month_close(month=NOV, at=AFTER_NOV)

    lines = StatementLine.objects.filter(kind=LineKind.READS).order_by("currency")
    assert [(x.currency, x.amount) for x in lines] == [("eur", 400), ("gbp", 300)]


def test_the_beat_task_closes_last_month(november) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(AFTER_NOV, tick=False):
        assert statements_close.delay().get() == "2026-11"
        statements_close.delay()

    assert MonthClose.objects.get().month == NOV
    assert Statement.objects.count() == 3


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (10, {1: 1.0, 2: 1.0, 3: 1.0}, {1: 4, 2: 3, 3: 3}),
        (100, {1: 2.0, 2: 1.0}, {1: 67, 2: 33}),
        (7, {5: 0.0, 6: 0.0}, {5: 0, 6: 0}),
        (1, {9: 1.0, 3: 1.0}, {3: 1, 9: 0}),
    ],
)
def test_largest_remainder_adds_up_and_breaks_ties_by_id(total, weights, expected) -> None:  # type: ignore[no-untyped-def]
    assert largest_remainder(total, weights) == expected


def test_one_time_payments_count_in_the_pool_once() -> None:
    from billing.models import OneTimePayment

    title, buyer = TitleFactory(), UserFactory()
    OneTimePayment.objects.create(
        checkout_session_id="cs_once",
        kind="credit_pack",
        user=buyer,
        status="paid",
        amount=400,
        currency="gbp",
        paid_at=IN_NOV,
    )
    read(buyer, title, DAY, 60, source="credit")

    month_close(month=NOV, at=AFTER_NOV)

    pool = PayoutPool.objects.get()
    assert (pool.net_revenue, pool.amount, pool.allocated) == (400, 200, 200)
