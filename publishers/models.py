"""The read ledger, the monthly payout statements per title, and who at a publisher sees them."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from membership.models import Article, Title


class TitleStaff(models.Model):
    """A staff user who works for a title's publisher: they see that title's figures only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="publisher_titles"
    )
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="publisher_staff")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "publisher staff member"
        verbose_name_plural = "publisher staff"
        constraints = [
            models.UniqueConstraint(fields=["user", "title"], name="title_staff_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.title}"


class ReadRow(models.Model):
    """One reader's engaged reading of one article on one day (UTC), accumulated from the
    reports the article page and the app send while the body is on screen.

    ``source`` is where the reader's access came from (``publishers.sources``): only some
    sources earn a share of a paying reader's money. A row is written only on its own day,
    so a month's rows never change once the month is over; which statement line counted
    a row follows from the row and the month's stored reader payments
    (``publishers.selectors.statement_line_rows``).
    """

    # Indexed by the constraint and index below (the ledger is large: no index it can spare).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="read_rows",
        db_index=False,
    )
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()
    source = models.CharField(max_length=24)
    seconds = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0)
    qualified = models.BooleanField(default=False)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "read"
        constraints = [
            models.UniqueConstraint(fields=["user", "article", "day"], name="read_once_a_day"),
        ]
        indexes = [models.Index(fields=["day", "title"], name="read_day_title")]

    def __str__(self) -> str:
        return f"Reader {self.user_id} on article {self.article_id}, {self.day}: {self.seconds}s"


class MonthClose(models.Model):
    """A month whose statements are written: made first when a month closes, so a second
    run (beat again, an admin) finds it and writes nothing."""

    month = models.DateField(unique=True, help_text="The first day of the month.")
    closed_at = models.DateTimeField(default=timezone.now)
    rounding = models.TextField(blank=True, help_text="The rounding rule the amounts follow.")

    class Meta:
        ordering = ("-month",)

    def __str__(self) -> str:
        return f"{self.month:%B %Y} closed"


class ReaderPayment(models.Model):
    """One reader's net payment in one currency in a closed month: what their reads shared
    out among titles (``is_primary``: the currency their ledger rows are traced under)."""

    close = models.ForeignKey(MonthClose, on_delete=models.PROTECT, related_name="payments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(help_text="Minor units: paid less refunded this month.")
    engaged_seconds = models.BigIntegerField(default=0, help_text="Earning seconds this month.")
    is_primary = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["close", "user", "currency"], name="reader_payment_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Reader {self.user_id}: {self.amount} {self.currency.upper()}"


class PayoutPool(models.Model):
    """One month's pool in one currency: the publishers' share of its net revenue, and how
    much of it the statements allocated (all of it, unless no paying reader read anything)."""

    close = models.ForeignKey(MonthClose, on_delete=models.PROTECT, related_name="pools")
    month = models.DateField(help_text="The first day of the month.")
    currency = models.CharField(max_length=3)
    net_revenue = models.BigIntegerField(help_text="Minor units: paid less refunded.")
    share = models.DecimalField(max_digits=5, decimal_places=4)
    amount = models.BigIntegerField(help_text="The pool: net revenue x share, rounded down.")
    allocated = models.BigIntegerField()
    paying_readers = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-month", "currency")
        constraints = [
            models.UniqueConstraint(fields=["month", "currency"], name="pool_once_a_month"),
        ]

    def __str__(self) -> str:
        return f"Pool {self.month:%Y-%m} {self.currency.upper()}: {self.amount}"


class Statement(models.Model):
    """A title's closed month: what was read and what is owed. Never changed once written;
    a later correction is an adjustment line on a later statement."""

    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="statements")
    month = models.DateField(help_text="The first day of the month.")
    qualifying_reads = models.PositiveIntegerField(default=0)
    engaged_seconds = models.BigIntegerField(default=0)
    readers = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-month", "title__name")
        constraints = [
            models.UniqueConstraint(fields=["title", "month"], name="statement_once_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.month:%B %Y}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("A closed statement never changes.")
        super().save(*args, **kwargs)


class LineKind(models.TextChoices):
    READS = "reads", "Reads by paying readers"
    UNPAID = "unpaid", "Reads that earn nothing (trial, comp, metered, gift link, no payment)"
    ADJUSTMENT = "adjustment", "Adjustment"


class StatementLine(models.Model):
    """One line of a statement. A reads line counts the ledger rows of the paying readers
    whose main currency is the line's; the unpaid line, the statement's other rows;
    adjustments count none (``publishers.selectors.statement_line_rows``)."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    currency = models.CharField(max_length=3, blank=True)
    qualifying_reads = models.PositiveIntegerField(default=0)
    engaged_seconds = models.BigIntegerField(default=0)
    readers = models.PositiveIntegerField(default=0)
    amount = models.BigIntegerField(default=0, help_text="Minor units owed (pence, cents).")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ("statement", "kind", "currency", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.currency.upper()} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("A line of a closed statement never changes.")
        super().save(*args, **kwargs)


class Adjustment(models.Model):
    """A correction owed to (or taken from) a title, added to the next statement closed."""

    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(help_text="Minor units; negative to take back.")
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    line = models.OneToOneField(
        StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )

    def __str__(self) -> str:
        return f"{self.title}: {self.amount} {self.currency.upper()} ({self.reason[:40]})"
