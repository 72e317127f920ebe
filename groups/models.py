"""Family and group memberships: the buyer of a plan sold by seat owns a group, and invites
a reader to each seat; a member reads what the owner's subscription opens, while it does."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from membership.models import Entitlement, Plan, SeatKind


class Group(models.Model):
    """The seats an owner bought (the quantity of their subscription) and who fills them.

    Written only by ``groups.services``; the subscription's sync keeps ``seats`` and the
    members' access in step with the owner's, in the same transaction."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_group"
    )
    kind = models.CharField(max_length=8, choices=SeatKind.choices, default=SeatKind.FAMILY)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL)
    seats = models.PositiveIntegerField(
        default=0, help_text="Seats paid for: the subscription's quantity (0 once it ended)."
    )
    subscription_ref = models.CharField(
        max_length=255, blank=True, help_text="The Stripe subscription that pays for the seats."
    )
    owner_entitlement = models.ForeignKey(
        Entitlement,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The owner's access from that subscription; members' windows follow it.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.owner} ({self.seats} seats)"


class MemberStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ACTIVE = "active", "Member"
    REMOVED = "removed", "Removed by the owner"
    LEFT = "left", "Left"
    DECLINED = "declined", "Invitation withdrawn"


# A seat is taken by an invitation waiting for an answer as well as by a member.
SEAT_TAKING = (MemberStatus.INVITED, MemberStatus.ACTIVE)


class GroupMember(models.Model):
    """One seat's invitation and, once accepted, its member."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    email = models.EmailField(max_length=254, help_text="Where the invitation was sent.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="group_memberships",
    )
    status = models.CharField(
        max_length=10, choices=MemberStatus.choices, default=MemberStatus.INVITED
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    entitlement = models.ForeignKey(
        Entitlement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("invited_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "email"],
                condition=Q(status__in=["invited", "active"]),
                name="group_member_one_seat_per_email",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="active"),
                name="group_member_one_group_per_reader",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        """The member's entitlement reference."""
        return f"group:{self.group_id}:member:{self.pk}"
