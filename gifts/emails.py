"""The gift's emails, each an outbox row once per fact: the code to the buyer when paid,
the code to the recipient at ``send_at``, and a reminder a week before the gift ends."""

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from gifts.models import Gift
from membership.emails import email_build
from membership.services import outbox_add


def _redeem_url() -> str:
    return settings.SITE_URL + reverse("web:gift-redeem")


def _context(gift: Gift, code: str) -> dict[str, object]:
    return {
        "gift": gift,
        "code": code,
        "plan_name": gift.plan.name,
        "redeem_url": _redeem_url(),
        "redeemable_until": gift.redeemable_until,
    }


def gift_bought_record(*, gift: Gift, code: str, to: str) -> bool:
    """The buyer's receipt with the code (once per gift)."""
    message = email_build(template="gifts/email/gift_bought", to=to, context=_context(gift, code))
    _, recorded = outbox_add(
        kind="gifts.bought",
        object_ref=f"gift:{gift.pk}",
        fact="paid",
        message=message,
        user=gift.buyer,
    )
    return recorded


def gift_received_record(*, gift: Gift, code: str) -> bool:
    """The recipient's email with the code and the buyer's message (once per gift)."""
    context = _context(gift, code)
    context["from_email"] = gift.buyer.email if gift.buyer else ""
    message = email_build(
        template="gifts/email/gift_received", to=gift.recipient_email, context=context
    )
    _, recorded = outbox_add(
        kind="gifts.received", object_ref=f"gift:{gift.pk}", fact="sent", message=message
    )
    return recorded


def gift_ending_record(*, gift: Gift, reader: User) -> bool:
    """ "Your gift ends in a week" with a link to the plans (once per gift)."""
    assert gift.entitlement is not None
    message = email_build(
        template="gifts/email/gift_ending",
        to=reader.email,
        context={"gift": gift, "plan_name": gift.plan.name, "ends_at": gift.entitlement.ends_at},
    )
    _, recorded = outbox_add(
        kind="gifts.ending",
        object_ref=f"gift:{gift.pk}",
        fact=f"ends:{gift.entitlement.ends_at.isoformat()}",
        message=message,
        user=reader,
    )
    return recorded
