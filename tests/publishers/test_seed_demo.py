"""``manage.py publishers_seed_demo``: a month of reads and last month's closed statements."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from publishers.models import MonthClose, PayoutPool, ReadRow, Statement, StatementLine
from publishers.selectors import statement_line_rows
from publishers.statements import month_next, month_previous, month_start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_has_a_closed_month_of_reads_and_runs_again_unchanged() -> None:
    call_command("seed_demo", "--no-progress", verbosity=0)
    call_command("publishers_seed_demo", stdout=StringIO())
    counts = (ReadRow.objects.count(), Statement.objects.count())

    call_command("publishers_seed_demo", stdout=StringIO())

    close = MonthClose.objects.get()
    assert close.month == month_previous(month_start(timezone.now().date()))
    assert (ReadRow.objects.count(), Statement.objects.count()) == counts
    assert Statement.objects.filter(month=close.month).count() >= 5
    pool = PayoutPool.objects.get(month=close.month)
    assert pool.allocated == pool.amount > 0
    assert StatementLine.objects.aggregate(total=Sum("amount"))["total"] == pool.amount
    month_rows = ReadRow.objects.filter(day__gte=close.month, day__lt=month_next(close.month))
    counted = sum(
        statement_line_rows(line=line).count()
        for line in StatementLine.objects.filter(statement__month=close.month)
    )
    assert counted == month_rows.count()
