"""The emails of group and family memberships (plain text with an HTML alternative)."""

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from core.site import site_url
from groups.models import Group
from membership.emails import email_build


def _kind(group: Group) -> str:
    return "family" if group.kind == "family" else "group"


def invitation_email_build(*, group: Group, to: str, token: str) -> EmailMultiAlternatives:
    """Build the invitation to a seat, with the link that accepts it."""
    return email_build(
        template="groups/email/invitation",
        to=to,
        context={
            "owner_email": group.owner.email,
            "kind": _kind(group),
            "plan_name": group.plan.name if group.plan else "Masthead",
            "accept_url": site_url(reverse("web:group-join", kwargs={"token": token})),
        },
    )


def too_few_seats_email_build(*, group: Group, taken: int) -> EmailMultiAlternatives:
    """Build "remove members first": fewer seats than members and invitations."""
    return email_build(
        template="groups/email/too_few_seats",
        to=group.owner.email,
        context={
            "kind": _kind(group),
            "seats": group.seats,
            "taken": taken,
            "account_url": site_url(reverse("web:account")),
        },
    )
