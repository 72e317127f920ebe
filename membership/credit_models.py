"""Pay-per-article credits: a reader's balance, the purchases that filled it, and the
articles unlocked with it. Written only by ``membership.services.credits``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CreditAccount(models.Model):
    """A reader's credits: ``balance`` is the sum of their purchases' unspent credits. Its
    row is locked by whoever spends or removes credits, so it never drops below zero."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_account"
    )
    balance = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.balance} credits of {self.user}"


class CreditPurchaseStatus(models.TextChoices):
    PAID = "paid", "Paid"
    REFUNDED = "refunded", "Refunded (unspent credits removed)"


class CreditPurchase(models.Model):
    """One paid pack of credits, added once per Checkout session (``reference``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_purchases"
    )
    reference = models.CharField(
        max_length=255, unique=True, help_text="The Stripe Checkout session that paid for it."
    )
    payment_ref = models.CharField(
        max_length=255, blank=True, db_index=True, help_text="Its Stripe payment intent."
    )
    pack = models.CharField(max_length=120, help_text="The pack's name when bought.")
    credits = models.PositiveIntegerField()
    credits_left = models.PositiveIntegerField(help_text="Not spent yet.")
    status = models.CharField(
        max_length=10, choices=CreditPurchaseStatus.choices, default=CreditPurchaseStatus.PAID
    )
    created_at = models.DateTimeField(default=timezone.now)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(credits_left__lte=models.F("credits")), name="credit_purchase_left"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pack}: {self.credits_left} of {self.credits} left"


class CreditUnlock(models.Model):
    """An article a reader unlocked with one credit: theirs for good (an entitlement to
    that one article, source ``credit``). One per reader and article."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_unlocks"
    )
    article = models.ForeignKey("membership.Article", on_delete=models.CASCADE, related_name="+")
    purchase = models.ForeignKey(
        CreditPurchase, null=True, blank=True, on_delete=models.SET_NULL, related_name="unlocks"
    )
    entitlement = models.ForeignKey(
        "membership.Entitlement", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["user", "article"], name="credit_unlock_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} unlocked article {self.article_id}"
