"""Titles, articles, plans, trials and entitlements: who may read what, and until when."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Title(models.Model):
    """A publication in the catalogue (a newspaper or magazine)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    publisher = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    is_premium = models.BooleanField(
        "premium", default=True, help_text="Premium titles need a membership to read."
    )
    never_metered = models.BooleanField(
        "never metered",
        default=False,
        help_text="A hard paywall: no free articles from the monthly meter for this title.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


def lead_from_body(body: str) -> str:
    """Return the body's first non-empty paragraph."""
    for paragraph in body.replace("\r\n", "\n").split("\n\n"):
        if paragraph.strip():
            return paragraph.strip()
    return ""


class Article(models.Model):
    """One article of a title. Its ``lead`` is what a reader without access sees."""

    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="articles")
    headline = models.CharField(max_length=300)
    standfirst = models.TextField(blank=True, help_text="The summary under the headline.")
    lead = models.TextField(
        blank=True,
        help_text="The opening paragraph shown above the paywall. "
        "Left empty, it is filled from the body's first paragraph.",
    )
    body = models.TextField(help_text="The full text; paragraphs separated by a blank line.")
    author = models.CharField(max_length=200, blank=True)
    section = models.CharField(max_length=100, blank=True)
    published_at = models.DateTimeField(default=timezone.now, db_index=True)
    is_free = models.BooleanField(
        "free to read", default=False, help_text="Free articles are open to everyone."
    )

    class Meta:
        ordering = ("-published_at", "-id")
        indexes = [models.Index(fields=["title", "-published_at"], name="article_title_recent")]

    def __str__(self) -> str:
        return self.headline

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.lead.strip():
            self.lead = lead_from_body(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        """The reader's page of the article (the API's address is ``membership:article-detail``)."""
        return reverse("web:article", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        """Whether anyone may read it: a free article or an article of a free title."""
        return self.is_free or not self.title.is_premium


class SeatKind(models.TextChoices):
    SINGLE = "single", "One reader"
    FAMILY = "family", "Family (up to 6 seats)"
    GROUP = "group", "Group (2 to 500 seats)"


# The most seats each kind may be sold with, and the fewest.
SEAT_LIMITS = {SeatKind.FAMILY: (1, 6), SeatKind.GROUP: (2, 500)}


class Plan(models.Model):
    """A membership a reader can buy, monthly or yearly; a family or group plan is sold by
    seat, one per reader the buyer invites."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    monthly_amount = models.PositiveIntegerField(
        help_text="Price per month in minor units (pence, cents)."
    )
    yearly_amount = models.PositiveIntegerField(
        help_text="Price per year in minor units (pence, cents)."
    )
    currency = models.CharField(max_length=3, default="gbp")
    trial_days = models.PositiveSmallIntegerField(default=14)
    all_titles = models.BooleanField(
        "covers every premium title",
        default=True,
        help_text="Untick to choose the titles this plan covers.",
    )
    titles = models.ManyToManyField(Title, blank=True, related_name="plans")
    is_active = models.BooleanField("on sale", default=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    seat_kind = models.CharField(
        "sold as",
        max_length=8,
        choices=SeatKind.choices,
        default=SeatKind.SINGLE,
        help_text="Family and group plans are priced per seat; the buyer invites a reader "
        "to each seat.",
    )
    min_seats = models.PositiveSmallIntegerField(
        default=1, help_text="Fewest seats a buyer may choose (group: at least 2)."
    )
    max_seats = models.PositiveSmallIntegerField(
        default=1, help_text="Most seats a buyer may choose (family: up to 6; group: up to 500)."
    )

    class Meta:
        ordering = ("display_order", "monthly_amount")

    def __str__(self) -> str:
        return self.name

    @property
    def by_seat(self) -> bool:
        """Whether it is sold by seat (a family or group plan)."""
        return self.seat_kind != SeatKind.SINGLE

    def clean(self) -> None:
        limits = SEAT_LIMITS.get(SeatKind(self.seat_kind))
        if limits is None:
            self.min_seats = self.max_seats = 1
            return
        low, high = limits
        if not low <= self.min_seats <= self.max_seats <= high:
            raise ValidationError(
                {
                    "max_seats": f"A {self.get_seat_kind_display().lower()} plan has between "
                    f"{low} and {high} seats, the fewest no more than the most."
                }
            )


class TrialKind(models.TextChoices):
    CARDLESS = "cardless", "Free trial, no card"
    CARD = "card", "Card trial through Stripe"


class TrialStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class Trial(models.Model):
    """One person's one free trial.

    ``email_hash`` (an HMAC of the normalised address, never the address) stays after the
    account is deleted, so the same person cannot start a second trial by signing up again.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trial",
    )
    email_hash = models.CharField(max_length=64, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=TrialKind.choices, default=TrialKind.CARDLESS)
    status = models.CharField(
        max_length=16, choices=TrialStatus.choices, default=TrialStatus.ACTIVE
    )
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["ends_at"],
                name="trial_active_by_end",
                condition=Q(status="active"),
            ),
            # The "trial ended" sweep walks these by id, batch after batch.
            models.Index(
                fields=["id"],
                name="trial_ended_email_pending",
                condition=Q(status="ended", ended_email_sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Trial #{self.pk} ({self.status}, ends {self.ends_at:%Y-%m-%d %H:%M})"


class TrialEvent(models.Model):
    """Append-only history of a trial."""

    class Kind(models.TextChoices):
        STARTED = "started", "Started"
        REMINDED = "reminded", "Reminder sent"
        ENDED = "ended", "Ended"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class EntitlementSource(models.TextChoices):
    TRIAL = "trial", "Free trial"
    SUBSCRIPTION = "subscription", "Subscription"
    COMP = "comp", "Complimentary"
    GIFT = "gift", "Gift"
    GROUP = "group", "Group or family seat"
    CREDIT = "credit", "Article unlocked with a credit"
    APPLE = "apple", "Apple App Store subscription"
    GOOGLE = "google", "Google Play subscription"


# Sources that are a subscription bought in an app store (see the appstores app).
STORE_SOURCES = (EntitlementSource.APPLE, EntitlementSource.GOOGLE)


class EntitlementQuerySet(models.QuerySet["Entitlement"]):
    def live(self, at: Any = None) -> "EntitlementQuerySet":
        """Entitlements whose window contains ``at`` (now by default)."""
        moment = at or timezone.now()
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)

    def covering(self, title_id: int) -> "EntitlementQuerySet":
        """Entitlements that cover the title: all titles, or this one among theirs."""
        return self.filter(Q(all_titles=True) | Q(titles__id=title_id))


# Sources whose reference names one thing (a Stripe subscription, a trial): each has at
# most one window open at a time, which the database holds (see ``Entitlement``).
ONE_WINDOW_SOURCES = (EntitlementSource.SUBSCRIPTION, EntitlementSource.TRIAL, *STORE_SOURCES)

# Paid access, or staff's grant in its place: the sources whose readers may give gift links.
GIFTING_SOURCES = (
    EntitlementSource.SUBSCRIPTION,
    *STORE_SOURCES,
    EntitlementSource.GROUP,
    EntitlementSource.COMP,
)


class Entitlement(models.Model):
    """The right of one reader to read premium titles from ``starts_at`` until ``ends_at``.

    Access ends at ``ends_at`` by itself: the paywall compares it with the clock, so no
    task has to run for a window to close. Revoking moves ``ends_at`` to the moment of
    revocation and records ``revoked_at``. Written only through membership's services.

    A subscription or a trial has one window at a time: the row of its reference that is
    not ``superseded_at``. A new window after a gap supersedes the last one, and the
    database refuses a second window for the reference, so two writers racing to open one
    cannot both succeed.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entitlements"
    )
    source = models.CharField(max_length=16, choices=EntitlementSource.choices)
    all_titles = models.BooleanField(default=True)
    titles = models.ManyToManyField(Title, blank=True, related_name="entitlements")
    article = models.ForeignKey(
        Article,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Set when it opens this one article only (unlocked with a credit).",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reference = models.CharField(
        max_length=255,
        blank=True,
        help_text="What created it: a trial, a Stripe subscription id, an admin's grant.",
    )
    note = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a later window of the same source and reference replaced this one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["user", "ends_at"], name="entitlement_user_end"),
            models.Index(fields=["source", "reference"], name="entitlement_source_ref"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")), name="entitlement_window_order"
            ),
            models.UniqueConstraint(
                fields=["source", "reference"],
                condition=Q(source__in=ONE_WINDOW_SOURCES, superseded_at__isnull=True)
                & ~Q(reference=""),
                name="entitlement_one_window_per_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} until {self.ends_at:%Y-%m-%d %H:%M}"

    def is_live(self, at: Any = None) -> bool:
        moment = at or timezone.now()
        return self.starts_at <= moment < self.ends_at


class EntitlementEvent(models.Model):
    """Append-only history of an entitlement: granted, changed, revoked."""

    class Kind(models.TextChoices):
        GRANTED = "granted", "Granted"
        CHANGED = "changed", "Changed"
        REVOKED = "revoked", "Revoked"

    entitlement = models.ForeignKey(Entitlement, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent (leased to one sender)"
    SENT = "sent", "Sent"
    FAILED = "failed", "Given up (the mail server refused it)"


class OutboxMessage(models.Model):
    """One email to a reader, written once per fact in the transaction that records the fact.

    The key (``kind``, ``object_ref``, ``fact``) is unique: whoever records the same fact
    again (a redelivered task, a second worker) finds the row and sends nothing. A sender
    leases the row (``sending`` until ``lease_until``) before talking to the mail server and
    marks it ``sent`` after; see ``membership.services.outbox``.
    """

    kind = models.CharField(max_length=64, help_text="What the email says: trial_reminder, …")
    object_ref = models.CharField(
        max_length=255, help_text="What it is about: trial:12, subscription:sub_…"
    )
    fact = models.CharField(max_length=255, help_text="Which fact about it: ended, invoice …")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body = models.TextField(help_text="The plain-text part.")
    html = models.TextField(blank=True, help_text="The HTML alternative.")
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_ref", "fact"], name="outbox_once_per_fact"
            ),
        ]
        indexes = [
            # The re-drive reads the rows not sent yet, oldest first.
            models.Index(
                fields=["created_at"],
                name="outbox_unsent",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_ref} {self.fact} ({self.status})"


# The gift links' and the meter's tables (membership/gift_link_models.py, meter_models.py),
# registered with this app.
# Credits live in their own module; importing it here registers their models.
from membership import credit_models  # noqa: E402
from membership.gift_link_models import GiftLink, GiftLinkOpen, GiftLinkState  # noqa: E402, F401
from membership.meter_models import MeterCount, MeterPolicy, MeterRead  # noqa: E402, F401

CreditAccount = credit_models.CreditAccount
CreditPurchase = credit_models.CreditPurchase
CreditPurchaseStatus = credit_models.CreditPurchaseStatus
CreditUnlock = credit_models.CreditUnlock
class AppAccount(models.Model):
    """A reader's stable, opaque id for the app stores: the app sets ``token`` on a purchase
    (Apple's ``appAccountToken``, Google's obfuscated account id) so the store's notifications
    name the reader without naming their email address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_account"
    )
    token = models.UUIDField(unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.token)
