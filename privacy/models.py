"""A reader's data exports, and erasure requests with their audit rows."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Being built"
    READY = "ready", "Ready to download"
    EXPIRED = "expired", "Expired (file deleted)"
    FAILED = "failed", "Failed"


class DataExport(models.Model):
    """One zip of a reader's data: built by a task, downloadable by that reader only until
    ``expires_at``, then its file is deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who asked for it: the reader, or a member of staff.",
    )
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    file_name = models.CharField(max_length=100, blank=True, editable=False)
    size = models.PositiveBigIntegerField(default=0, help_text="Size of the zip in bytes.")
    files = models.JSONField(default=list, blank=True, help_text="The JSON files in the zip.")
    last_error = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        indexes = [
            models.Index(
                fields=["expires_at"], name="data_export_ready", condition=Q(status="ready")
            ),
        ]

    def __str__(self) -> str:
        return f"Data export #{self.pk} ({self.status})"


class ErasureStatus(models.TextChoices):
    PENDING = "pending", "Waiting to run"
    RUNNING = "running", "Running (leased to one worker)"
    DONE = "done", "Done"


class ErasureRequest(models.Model):
    """The work of erasing one reader, step by step: each step is recorded when done, so a
    worker killed mid-way leaves the rest for the next run (beat re-drives it).

    Holds nothing that names the reader: their account is kept as an anonymous row, and the
    Stripe customer ids are Stripe's pseudonyms, kept to scrub events Stripe sends later.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="erasure_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member of staff who asked for it; empty when the reader asked.",
    )
    by_reader = models.BooleanField(default=True, help_text="The reader asked for it.")
    status = models.CharField(
        max_length=16, choices=ErasureStatus.choices, default=ErasureStatus.PENDING
    )
    steps_done = models.JSONField(default=list, blank=True)
    stripe_customer_ids = models.JSONField(default=list, blank=True)
    erased = models.JSONField(default=dict, blank=True, help_text="Rows erased, per model.")
    kept = models.JSONField(default=dict, blank=True, help_text="Rows kept, per model.")
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=~Q(status="done"),
                name="erasure_one_open_per_reader",
            ),
        ]

    def __str__(self) -> str:
        return f"Erasure #{self.pk} ({self.status})"


class ErasureAudit(models.Model):
    """What one erasure removed and kept, when and by whom; never the reader's address."""

    request = models.OneToOneField(ErasureRequest, on_delete=models.PROTECT, related_name="audit")
    member_id = models.PositiveBigIntegerField(help_text="The erased account's id (kept, empty).")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    by_reader = models.BooleanField(default=True)
    erased = models.JSONField(default=dict)
    kept = models.JSONField(default=dict)
    notes = models.JSONField(default=list, blank=True)
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(default=timezone.now)
    records_kept_until = models.DateTimeField(
        help_text="Payment records are kept until then (PRIVACY_PAYMENT_RECORDS_RETENTION_DAYS)."
    )
    records_deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the kept payment records were deleted."
    )

    class Meta:
        ordering = ("-finished_at", "-id")
        verbose_name = "erasure audit row"

    def __str__(self) -> str:
        return f"Erasure of member #{self.member_id} at {self.finished_at:%Y-%m-%d %H:%M}"
