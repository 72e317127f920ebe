"""The meter's tables: its limits, and the premium articles each reader read free."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone


def _anonymous_default() -> int:
    return int(settings.METER_ANONYMOUS)


def _registered_default() -> int:
    return int(settings.METER_REGISTERED)


class MeterPolicy(models.Model):
    """The meter's limits, one row edited in the admin. Until an admin saves it, the
    settings ``METER_ANONYMOUS`` and ``METER_REGISTERED`` apply."""

    anonymous_limit = models.PositiveIntegerField(
        "free articles a month, not signed in",
        default=_anonymous_default,
        validators=[MaxValueValidator(1000)],
        help_text="Premium articles a reader who is not signed in may read each calendar "
        "month. 0 turns this meter off (the sign-up wall shows at once).",
    )
    registered_limit = models.PositiveIntegerField(
        "free articles a month, signed in",
        default=_registered_default,
        validators=[MaxValueValidator(1000)],
        help_text="Premium articles a signed-in reader without a trial or plan may read each "
        "calendar month. 0 turns this meter off.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "meter policy"
        verbose_name_plural = "meter policy"

    def __str__(self) -> str:
        return f"{self.anonymous_limit} a month not signed in, {self.registered_limit} signed in"


class MeterRead(models.Model):
    """A premium article read free on the meter: once per reader, article and month.

    ``subject`` is ``user:<id>`` for a signed-in reader, ``device:<id>`` otherwise; the
    unique key makes a re-read in the same month free (the insert does nothing).
    """

    subject = models.CharField(max_length=80)
    article = models.ForeignKey("membership.Article", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month, in METER_TIMEZONE.")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "article", "month"], name="meter_read_once_a_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} read {self.article_id} in {self.month:%Y-%m}"


class MeterCount(models.Model):
    """How many articles a reader read free this month: the row a counted read locks, so
    parallel reads never grant past the limit."""

    subject = models.CharField(max_length=80)
    month = models.DateField(help_text="The first day of the month, in METER_TIMEZONE.")
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "month"], name="meter_count_one_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.subject}: {self.used} in {self.month:%Y-%m}"
