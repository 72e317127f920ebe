"""What a gift code gives, read without changing anything."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from core.errors import ApplicationError
from gifts import codes
from gifts.models import Gift, GiftStatus
from gifts.services import GiftErrorCode, gift_refusal


@dataclass(frozen=True)
class GiftTerms:
    plan_slug: str
    plan_name: str
    months: int
    state: str  # redeemable, redeemed, voided, expired
    redeemable_until: datetime
    message: str


def gift_terms_get(*, code: str) -> GiftTerms:
    """What the code gives and until when it can be redeemed; 404 ``gift_not_found``."""
    digest = codes.code_hash(code)
    gift = Gift.objects.select_related("plan").filter(code_hash=digest).first() if digest else None
    if gift is None:
        raise ApplicationError(
            code=GiftErrorCode.NOT_FOUND, message="There is no gift with this code.", status=404
        )
    refusal = gift_refusal(gift, at=timezone.now())
    state = GiftStatus.REDEEMABLE.value
    if refusal is not None:
        state = {
            GiftErrorCode.ALREADY_REDEEMED: "redeemed",
            GiftErrorCode.VOIDED: "voided",
            GiftErrorCode.EXPIRED: "expired",
        }[refusal.code]
    return GiftTerms(
        plan_slug=gift.plan.slug,
        plan_name=gift.plan.name,
        months=gift.months,
        state=state,
        redeemable_until=gift.redeemable_until,
        message=gift.message,
    )
