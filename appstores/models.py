"""Subscriptions bought in the Apple App Store or Google Play, their notifications, and the
map from the stores' product ids to Masthead's plans."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from membership.models import Plan


class Store(models.TextChoices):
    APPLE = "apple", "Apple App Store"
    GOOGLE = "google", "Google Play"


class StoreProduct(models.Model):
    """A product id in a store, sold as one of Masthead's plans."""

    store = models.CharField(max_length=16, choices=Store.choices)
    product_id = models.CharField(
        max_length=255, help_text="As set up in App Store Connect or the Play Console."
    )
    plan = models.ForeignKey(
        Plan,
        on_delete=models.PROTECT,
        related_name="store_products",
        help_text="The plan a reader gets by buying it: its titles are what they may read.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "store product"
        constraints = [
            models.UniqueConstraint(fields=["store", "product_id"], name="store_product_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_store_display()}: {self.product_id} -> {self.plan}"


class StoreSubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELED = "canceled", "Cancelled (reads until the paid period ends)"
    GRACE_PERIOD = "grace_period", "Payment failed, in the grace period (reads until it ends)"
    BILLING_RETRY = "billing_retry", "Payment failed, the store retries (no access)"
    PAUSED = "paused", "Paused"
    PENDING = "pending", "Waiting for the payment"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Refunded or revoked"
    REPLACED = "replaced", "Replaced by a newer purchase (upgrade or resubscription)"


class StoreSubscription(models.Model):
    """Masthead's mirror of one store subscription, as last fetched from the store.

    ``external_id`` is Apple's ``originalTransactionId`` or Google's purchase token. The
    reader's access is an entitlement of the store's source whose reference is
    ``entitlement_reference``; it runs until ``access_until``."""

    store = models.CharField(max_length=16, choices=Store.choices)
    external_id = models.CharField(
        max_length=512, help_text="Apple's originalTransactionId, or Google's purchase token."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="store_subscriptions",
    )
    product_id = models.CharField(max_length=255, blank=True)
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    environment = models.CharField(
        max_length=32, blank=True, help_text="Sandbox or Production; a test purchase on Google."
    )
    status = models.CharField(
        max_length=16,
        choices=StoreSubscriptionStatus.choices,
        default=StoreSubscriptionStatus.ACTIVE,
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    grace_until = models.DateTimeField(null=True, blank=True)
    access_until = models.DateTimeField(
        null=True, blank=True, help_text="When the reader's access from it ends (empty: none)."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    auto_renew = models.BooleanField(null=True, blank=True)
    auto_renew_product_id = models.CharField(
        max_length=255, blank=True, help_text="The product it renews into (a plan change)."
    )
    app_account_token = models.UUIDField(
        null=True, blank=True, help_text="The reader's token as the store reports it."
    )
    latest_transaction_id = models.CharField(max_length=255, blank=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="Google: when Masthead acknowledged the purchase."
    )
    double_payment_at = models.DateTimeField(
        "double payment flagged",
        null=True,
        blank=True,
        help_text="Bought while the reader also paid on the website: support should help "
        "them cancel one of the two.",
    )
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the state applied last was fetched."
    )
    data = models.JSONField(default=dict, blank=True, help_text="The store's state, decoded.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="store_subscription_once")
        ]
        indexes = [
            models.Index(
                fields=["double_payment_at"],
                name="store_sub_double_payment",
                condition=Q(double_payment_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_store_display()} {self.external_id[:24]} ({self.status})"

    @property
    def entitlement_reference(self) -> str:
        return f"{self.store}:{self.pk}"


class StoreSubscriptionEvent(models.Model):
    """Append-only history of a store subscription."""

    class Kind(models.TextChoices):
        LINKED = "linked", "Linked to a reader"
        APPLIED = "applied", "Store state applied"
        DOUBLE_PAYMENT = "double_payment", "Double payment flagged"
        ACKNOWLEDGED = "acknowledged", "Purchase acknowledged"
        REPLACED = "replaced", "Replaced by a newer purchase"

    subscription = models.ForeignKey(
        StoreSubscription, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class StoreNotificationStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Being applied"
    SUCCEEDED = "succeeded", "Applied"
    IGNORED = "ignored", "Ignored (nothing to apply)"
    FAILED = "failed", "Failed"


class StoreNotification(models.Model):
    """One verified notification from a store, stored once before it is applied.

    Apple's ``notificationUUID`` or Pub/Sub's ``messageId`` is unique per store: a
    notification delivered again finds its row and is applied no second time."""

    store = models.CharField(max_length=16, choices=Store.choices)
    notification_id = models.CharField(max_length=255)
    type = models.CharField(max_length=64, help_text="Apple's notificationType, Google's type.")
    subtype = models.CharField(max_length=64, blank=True)
    environment = models.CharField(max_length=32, blank=True)
    external_id = models.CharField(
        max_length=512, blank=True, help_text="The subscription it is about."
    )
    payload = models.JSONField(default=dict, blank=True, help_text="As verified and decoded.")
    status = models.CharField(
        max_length=16,
        choices=StoreNotificationStatus.choices,
        default=StoreNotificationStatus.RECEIVED,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "notification_id"], name="store_notification_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="store_notification_unfinished",
                condition=Q(status__in=["received", "processing"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_store_display()} {self.type} {self.notification_id} ({self.status})"
