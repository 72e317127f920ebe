"""Masthead's mirror of Stripe: customers, plan prices, subscriptions and webhook events."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.stripe_gateway.shapes import StripeSubscription
from membership.models import Entitlement, Plan


class SyncStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent to Stripe"
    SYNCED = "synced", "In step with Stripe"
    FAILED = "failed", "Stripe refused or could not be reached"


class PlanPrices(models.Model):
    """The Stripe product and prices of a plan, and whether they match the plan."""

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="stripe_prices")
    product_id = models.CharField(max_length=255, blank=True)
    monthly_price_id = models.CharField(max_length=255, blank=True)
    yearly_price_id = models.CharField(max_length=255, blank=True)
    monthly_amount = models.PositiveIntegerField(null=True, blank=True)
    yearly_amount = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    last_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "plan's Stripe prices"
        verbose_name_plural = "plans' Stripe prices"

    def __str__(self) -> str:
        return f"Stripe prices of {self.plan} ({self.status})"

    def price_id(self, interval: str) -> str:
        return self.monthly_price_id if interval == "month" else self.yearly_price_id


class PortalConfiguration(models.Model):
    """The Customer Portal's configuration at Stripe (one row): the plans a reader may
    switch between there."""

    stripe_id = models.CharField(max_length=255, blank=True)
    products = models.JSONField(default=list, blank=True, help_text="As last sent to Stripe.")
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Customer Portal configuration"

    def __str__(self) -> str:
        return self.stripe_id or "Customer Portal configuration (not at Stripe yet)"


class Customer(models.Model):
    """The Stripe customer of a reader, made the first time the reader needs one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stripe_customer",
    )
    stripe_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.stripe_id


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Canceled"
    INCOMPLETE = "incomplete", "Incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
    PAUSED = "paused", "Paused"


# The status groups, defined here once.
# Live: the subscription gives access now (past due within its grace period).
LIVE_STATUSES = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
)
# Past due: a payment failed and the reader owes it.
PAST_DUE_STATUSES = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)
# Ended: it will never give access again.
ENDED_STATUSES = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)
# Stripe's trial is over in these: the reader pays, or owes; or the subscription stopped.
PAYING_STATUSES = (SubscriptionStatus.ACTIVE, *PAST_DUE_STATUSES)
STOPPED_STATUSES = (*ENDED_STATUSES, SubscriptionStatus.PAUSED)
# A subscription the reader still has: live, or stopped but able to start again.
CURRENT_STATUSES = (*LIVE_STATUSES, SubscriptionStatus.UNPAID, SubscriptionStatus.PAUSED)


class Subscription(models.Model):
    """A read-only mirror of one Stripe subscription, written by the sync service only.

    ``synced_at`` is when the fetch that produced this state began: a later fetch wins,
    an older one (an event delivered late) is dropped. ``covers_events_upto`` is the newest
    stored webhook event (by row id) when that fetch began: every event up to it happened
    at Stripe before the fetch, so this state already shows it.
    """

    stripe_id = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriptions",
    )
    customer_stripe_id = models.CharField(max_length=255, db_index=True)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL)
    price_id = models.CharField(max_length=255, blank=True)
    interval = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=24, choices=SubscriptionStatus.choices)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="First failed payment of the current unpaid invoice."
    )
    open_invoice_id = models.CharField(max_length=255, blank=True)
    hosted_invoice_url = models.URLField(max_length=1000, blank=True)
    authentication_invoice_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="An open invoice whose payment waits for the reader to confirm it with "
        "their bank (Stripe's invoice.payment_action_required).",
    )
    entitlement = models.ForeignKey(
        Entitlement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    synced_at = models.DateTimeField()
    covers_events_upto = models.BigIntegerField(
        default=0, help_text="Webhook events stored up to this row id are reflected here."
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "status"], name="subscription_user_status")]

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.status})"

    @property
    def needs_authentication(self) -> bool:
        """Whether the open invoice waits for the reader to confirm the payment."""
        return bool(self.open_invoice_id) and self.authentication_invoice_id == (
            self.open_invoice_id
        )

    @property
    def stripe(self) -> StripeSubscription:
        """Stripe's object as last synced (``data``), read through its shape."""
        return StripeSubscription.from_api(self.data)

    @property
    def is_ending(self) -> bool:
        """Whether it will stop at a set moment rather than renew."""
        return self.cancel_at is not None or self.cancel_at_period_end


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    IGNORED = "ignored", "Ignored (type not handled)"


class WebhookEvent(models.Model):
    """One Stripe event, stored once (unique Stripe id) before anything is applied."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    api_version = models.CharField(max_length=40, blank=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=WebhookEventStatus.choices, default=WebhookEventStatus.RECEIVED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="While processing: the worker applying it holds it until then, and renews "
        "the lease while it works; no other worker takes it over before.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")
        indexes = [
            models.Index(
                fields=["status", "received_at"],
                name="webhook_pending",
                condition=Q(status__in=["received", "processing", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id} ({self.status})"


class OneTimePaymentStatus(models.TextChoices):
    OPEN = "open", "Checkout open"
    PROCESSING = "processing", "Paid by bank debit, not settled yet"
    PAID = "paid", "Paid and fulfilled"
    FAILED = "failed", "Bank debit failed"
    REFUNDED = "refunded", "Refunded"


class OneTimePayment(models.Model):
    """One purchase paid once through Checkout in payment mode (a gift, a credit pack ...).

    ``kind`` says what it buys; the app selling that kind fulfils it once, when Stripe says
    the money is in, and undoes it on a refund (``billing.one_time``)."""

    checkout_session_id = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=32, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="one_time_payments",
    )
    status = models.CharField(
        max_length=16, choices=OneTimePaymentStatus.choices, default=OneTimePaymentStatus.OPEN
    )
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    amount = models.PositiveIntegerField(null=True, blank=True, help_text="In cents, as paid.")
    currency = models.CharField(max_length=3, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="As sent to Stripe.")
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    amount_refunded = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.kind} {self.checkout_session_id} ({self.status})"


class OfferDuration(models.TextChoices):
    ONCE = "once", "The first payment only"
    REPEATING = "repeating", "A number of months"
    FOREVER = "forever", "Every payment, for as long as the subscription lasts"


class Offer(models.Model):
    """A discount readers get with a public code, at ``/offers/<code>/`` or typed in
    Checkout. Pushed to Stripe as a coupon plus a promotion code when saved."""

    name = models.CharField(max_length=120, help_text="Shown to readers, e.g. 'Spring sale'.")
    code = models.CharField(
        max_length=40,
        unique=True,
        help_text="The public code (letters, digits and dashes; readers may type it in any case).",
    )
    percent_off = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Percent off each discounted payment (fill this or the amount off).",
    )
    amount_off = models.PositiveIntegerField(
        null=True, blank=True, help_text="Amount off each discounted payment, in cents."
    )
    currency = models.CharField(
        max_length=3, blank=True, help_text="The amount's currency (the plans' currency)."
    )
    duration = models.CharField(
        max_length=16, choices=OfferDuration.choices, default=OfferDuration.ONCE
    )
    duration_in_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a number of months: how many."
    )
    plans = models.ManyToManyField(
        Plan, blank=True, related_name="offers", help_text="None chosen: every plan."
    )
    max_redemptions = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many readers in total may use it (empty: no cap)."
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="The last moment it can be used (empty: no end)."
    )
    first_time_only = models.BooleanField(
        default=False, help_text="Only for readers who have never paid Masthead before."
    )
    is_active = models.BooleanField("on offer", default=True)
    coupon_id = models.CharField(max_length=255, blank=True)
    promotion_code_id = models.CharField(max_length=255, blank=True)
    pushed_terms = models.JSONField(
        default=dict, blank=True, help_text="The terms the Stripe coupon was made with."
    )
    times_redeemed = models.PositiveIntegerField(
        default=0, help_text="Redemptions so far, as Stripe last counted them."
    )
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    last_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
class CreditPack(models.Model):
    """A pack of pay-per-article credits sold once at a fixed price (a one-time Stripe
    price). Saving it in the admin pushes it to Stripe once the change is committed."""

    name = models.CharField(max_length=120, help_text="As readers see it, e.g. “5 articles”.")
    slug = models.SlugField(max_length=80, unique=True)
    credits = models.PositiveSmallIntegerField(help_text="Articles it unlocks.")
    amount = models.PositiveIntegerField(help_text="Price in minor units (pence, cents).")
    currency = models.CharField(max_length=3, default="gbp")
    is_active = models.BooleanField("on sale", default=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    product_id = models.CharField(max_length=255, blank=True, editable=False)
    price_id = models.CharField(
        max_length=255, blank=True, editable=False, help_text="The one-time price on sale."
    )
    price_amount = models.PositiveIntegerField(null=True, blank=True, editable=False)
    price_currency = models.CharField(max_length=3, blank=True, editable=False)
    status = models.CharField(
        max_length=16, choices=SyncStatus.choices, default=SyncStatus.PENDING, editable=False
    )
    last_error = models.TextField(blank=True, editable=False)
    synced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("display_order", "amount")

    def __str__(self) -> str:
        return self.name

    @property
    def on_sale(self) -> bool:
        """Whether readers can buy it now: on sale, and its price at Stripe matches."""
        return (
            self.is_active
            and self.status == SyncStatus.SYNCED
            and bool(self.price_id)
            and self.price_amount == self.amount
            and self.price_currency == self.currency.lower()
        )
