"""Gift memberships: a plan for some months, bought once, redeemed once by a code."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from billing.models import OneTimePayment, SyncStatus
from membership.models import Entitlement, Plan

GIFT_MONTHS = (1, 3, 6, 12)


class GiftPrice(models.Model):
    """The one-time Stripe price of a plan given for ``months`` months."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="gift_prices")
    months = models.PositiveSmallIntegerField(choices=[(m, f"{m} months") for m in GIFT_MONTHS])
    amount = models.PositiveIntegerField(help_text="In cents: what the buyer pays.")
    currency = models.CharField(max_length=3)
    product_id = models.CharField(max_length=255, blank=True)
    price_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    last_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "months"], name="gift_price_per_length")
        ]
        ordering = ("plan", "months")

    def __str__(self) -> str:
        return f"{self.plan} for {self.months} months ({self.status})"


class GiftStatus(models.TextChoices):
    REDEEMABLE = "redeemable", "Waiting to be redeemed"
    REDEEMED = "redeemed", "Redeemed"
    VOIDED = "voided", "Voided (refunded)"


class Gift(models.Model):
    """A paid gift. Its code is never stored: ``code_hash`` finds it, and the code is
    derived again from ``code_salt`` and the site's secret when an email needs it."""

    payment = models.OneToOneField(OneTimePayment, on_delete=models.PROTECT, related_name="gift")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gifts_bought",
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    months = models.PositiveSmallIntegerField()
    recipient_email = models.EmailField(blank=True)
    send_at = models.DateTimeField(
        null=True, blank=True, help_text="When the code is emailed to the recipient."
    )
    message = models.TextField(blank=True, max_length=500)
    code_salt = models.CharField(max_length=64, editable=False)
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    code_hint = models.CharField(
        max_length=8, editable=False, help_text="The code's last characters, to tell gifts apart."
    )
    status = models.CharField(
        max_length=16, choices=GiftStatus.choices, default=GiftStatus.REDEEMABLE
    )
    redeemable_until = models.DateTimeField()
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gifts_redeemed",
    )
    redeemed_at = models.DateTimeField(null=True, blank=True)
    entitlement = models.ForeignKey(
        Entitlement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    recipient_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the code's email to the recipient was recorded."
    )
    reminder_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the 'your gift ends soon' email was recorded."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["status", "recipient_sent_at"], name="gift_to_send"),
        ]

    def __str__(self) -> str:
        return f"Gift …{self.code_hint}: {self.plan} for {self.months} months ({self.status})"
