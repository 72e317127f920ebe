"""Gift links: a paying reader shares one article with people who have no access.

Loaded by ``membership.models`` (which re-exports both models); a module of its own so the
catalogue's and the entitlements' file stays small.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class GiftLinkState(models.TextChoices):
    """What a gift link does when opened now; the giver's list shows the same words."""

    LIVE = "live", "Opens the article"
    EXPIRED = "expired", "This gift link has expired"
    EXHAUSTED = "exhausted", "This gift link has been opened on as many devices as it allows"
    REVOKED = "revoked", "This gift link has been withdrawn"
    OTHER_ARTICLE = "other_article", "This gift link is for another article"
    INVALID = "invalid", "This gift link is not valid"


class GiftLink(models.Model):
    """One reader's link to one article, opened without a membership until ``expires_at``.

    The token itself is never stored: ``token_hash`` is its SHA-256 and ``salt`` the random
    value it is derived from with ``GIFT_LINK_KEY`` (see ``membership.services.gift_links``),
    so the giver can be shown the same link again and a copy of the database opens nothing.
    """

    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gift_links"
    )
    article = models.ForeignKey(
        "membership.Article", on_delete=models.CASCADE, related_name="gift_links"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    salt = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="The link opens nothing from this moment on.")
    opens = models.PositiveIntegerField(
        default=0, help_text="Distinct devices or readers it has opened on."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            # The monthly allowance and the giver's list: a giver's links, newest first.
            models.Index(fields=["giver", "-created_at"], name="gift_link_giver_recent"),
        ]

    def __str__(self) -> str:
        return f"Gift link #{self.pk} to article #{self.article_id}"


class GiftLinkOpen(models.Model):
    """A device or reader a gift link opened on: the first open counts, reopening is free."""

    link = models.ForeignKey(GiftLink, on_delete=models.CASCADE, related_name="opened_by")
    opener = models.CharField(
        max_length=100, help_text="reader:<id> for a signed-in reader, device:<id> otherwise."
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("opened_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["link", "opener"], name="gift_link_open_once"),
        ]

    def __str__(self) -> str:
        return f"Opened at {self.opened_at:%Y-%m-%d %H:%M}"
