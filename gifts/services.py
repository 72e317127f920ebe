"""Gift memberships: buy one through Checkout, fulfil it once paid, redeem it once, void it
on a refund, and the emails around it."""

import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway
from billing.errors import BillingError
from billing.models import LIVE_STATUSES, OneTimePayment, Subscription, SyncStatus
from billing.one_time import PaymentStart, one_time_checkout_start
from billing.stripe_gateway import StripeCharge, StripeCheckoutSession
from core.errors import ApplicationError
from core.site import site_url
from gifts import codes, emails
from gifts.models import GIFT_MONTHS, Gift, GiftPrice, GiftStatus
from membership.models import Entitlement, EntitlementSource, Plan
from membership.services import entitlement_grant, entitlement_revoke

logger = logging.getLogger(__name__)

REDEEMABLE_FOR_DAYS = 365
SEND_AT_LIMIT = timedelta(days=365)
REMINDER_BEFORE = timedelta(days=7)


class GiftErrorCode:
    UNKNOWN_PLAN = "unknown_plan"
    BAD_LENGTH = "invalid_gift_length"
    BAD_SEND_AT = "invalid_send_at"
    NOT_FOUND = "gift_not_found"
    ALREADY_REDEEMED = "gift_already_redeemed"
    VOIDED = "gift_voided"
    EXPIRED = "gift_expired"
    ALREADY_SUBSCRIBED = "already_subscribed"
    PRICE_NOT_SYNCED = "plan_not_synced"


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("no such month")


def gift_amount(*, plan: Plan, months: int) -> int:
    """What a gift of the plan for ``months`` months costs: the yearly price for a year,
    else the monthly price for each month."""
    if months == 12 and plan.yearly_amount:
        return plan.yearly_amount
    return plan.monthly_amount * months


def gift_price_ensure(*, plan: Plan, months: int) -> GiftPrice:
    """Return the gift's one-time price at Stripe for the plan's current amount, creating
    the product and price there when the amount changed or was never pushed. Calls Stripe:
    not inside a transaction."""
    amount, currency = gift_amount(plan=plan, months=months), plan.currency.lower()
    row, _ = GiftPrice.objects.get_or_create(
        plan=plan, months=months, defaults={"amount": amount, "currency": currency}
    )
    in_step = row.status == SyncStatus.SYNCED and row.price_id
    if in_step and (row.amount, row.currency) == (amount, currency):
        return row
    try:
        if not row.product_id:
            product = stripe_gateway.catalog_product_create(
                ids=f"gift-plan:{plan.pk}",
                name=f"Gift: {plan.name}",
                description=f"A gift membership of {plan.name}, paid once.",
                metadata={"kind": "gift", "plan_id": str(plan.pk)},
            )
            row.product_id = product.id
        price = stripe_gateway.one_time_price_create(
            ids=f"gift:{plan.pk}:{months}:{amount}:{currency}",
            product_id=row.product_id,
            amount=amount,
            currency=currency,
            metadata={"kind": "gift", "plan_id": str(plan.pk), "months": str(months)},
        )
    except BillingError as exc:
        row.status, row.last_error = SyncStatus.FAILED, f"{exc.code}: {exc.message}"
        row.save()
        raise
    row.price_id, row.amount, row.currency = price.id, amount, currency
    row.status, row.last_error, row.synced_at = SyncStatus.SYNCED, "", timezone.now()
    row.save()
    logger.info("Gift price %s: %s for %s months at %s", row.price_id, plan.slug, months, amount)
    return row


def gift_prices_push() -> int:
    """Push the gift prices of every plan on sale; return how many are in step."""
    done = 0
    for plan in Plan.objects.filter(is_active=True):
        for months in GIFT_MONTHS:
            gift_price_ensure(plan=plan, months=months)
            done += 1
    return done


def _plan(slug: str) -> Plan:
    plan = Plan.objects.filter(slug=slug, is_active=True).first()
    if plan is None:
        raise ApplicationError(
            code=GiftErrorCode.UNKNOWN_PLAN,
            message=f"There is no plan on sale called {slug!r}.",
            status=404,
        )
    return plan


def gift_checkout_start(
    *,
    buyer: User,
    plan_slug: str,
    months: int,
    recipient_email: str = "",
    send_at: datetime | None = None,
    message: str = "",
) -> PaymentStart:
    """Open Checkout (payment mode) for a gift of the plan for ``months`` months. The code
    goes to the buyer once paid, and to ``recipient_email`` (if given) at ``send_at`` (at
    once when not given). Refuses an unknown plan (404), a length other than 1, 3, 6 or
    12 months and a ``send_at`` in the past or more than a year ahead (400)."""
    plan = _plan(plan_slug)
    if months not in GIFT_MONTHS:
        raise ApplicationError(
            code=GiftErrorCode.BAD_LENGTH, message="A gift lasts 1, 3, 6 or 12 months."
        )
    now = timezone.now()
    if send_at is not None and not (now - timedelta(minutes=5) <= send_at <= now + SEND_AT_LIMIT):
        raise ApplicationError(
            code=GiftErrorCode.BAD_SEND_AT,
            message="Choose a sending date between now and a year from now.",
        )
    price = gift_price_ensure(plan=plan, months=months)
    metadata = {
        "plan_id": str(plan.pk),
        "months": str(months),
        "recipient_email": recipient_email,
        "send_at": send_at.isoformat() if send_at else "",
        "message": message[:500],
    }
    thanks = site_url(reverse("web:gift-thanks")) + "?" + urlencode({"session_id": "X"})
    return one_time_checkout_start(
        user=buyer,
        kind="gift",
        line_items=[(price.price_id, 1)],
        metadata=metadata,
        success_url=thanks.replace("session_id=X", "session_id={CHECKOUT_SESSION_ID}"),
        cancel_url=site_url(reverse("web:gift-buy")),
        description=f"Gift: {plan.name}, {months} months",
    )


def gift_fulfil(payment: OneTimePayment, session: StripeCheckoutSession) -> None:
    """Make the gift of a paid purchase (once: the payment is fulfilled once) and record
    the buyer's email with its code; the recipient's is sent at ``send_at``."""
    data = payment.metadata
    plan = Plan.objects.get(pk=int(data["plan_id"]))
    salt = codes.salt_new()
    code = codes.code_of(salt)
    send_at = datetime.fromisoformat(data["send_at"]) if data.get("send_at") else None
    gift = Gift.objects.create(
        payment=payment,
        buyer=payment.user,
        plan=plan,
        months=int(data["months"]),
        recipient_email=data.get("recipient_email", ""),
        send_at=send_at,
        message=data.get("message", ""),
        code_salt=salt,
        code_hash=codes.code_hash(code),
        code_hint=code[-4:],
        redeemable_until=timezone.now() + timedelta(days=REDEEMABLE_FOR_DAYS),
    )
    to = payment.user.email if payment.user else session.email
    if to:
        emails.gift_bought_record(gift=gift, code=code, to=to)
    if gift.recipient_email and (send_at is None or send_at <= timezone.now()):
        emails.gift_received_record(gift=gift, code=code)
        gift.recipient_sent_at = timezone.now()
        gift.save(update_fields=["recipient_sent_at"])
    logger.info(
        "Gift %s (%s, %s months) made for session %s", gift.pk, plan.slug, gift.months, session.id
    )


def gift_refund(payment: OneTimePayment, charge: StripeCharge) -> None:
    """A refunded gift: an unredeemed code is voided; a redeemed one ends its access now."""
    gift = Gift.objects.select_for_update().filter(payment=payment).first()
    if gift is None or gift.status == GiftStatus.VOIDED:
        return
    if gift.entitlement is not None:
        entitlement_revoke(entitlement=gift.entitlement, note=f"Gift refunded ({charge.id})")
    gift.status, gift.voided_at = GiftStatus.VOIDED, timezone.now()
    gift.save(update_fields=["status", "voided_at"])
    logger.info("Gift %s voided by refund of charge %s", gift.pk, charge.id)


def _gift_for_update(code: str) -> Gift:
    digest = codes.code_hash(code)
    gift = Gift.objects.select_for_update().filter(code_hash=digest).first() if digest else None
    if gift is None:
        raise ApplicationError(
            code=GiftErrorCode.NOT_FOUND, message="There is no gift with this code.", status=404
        )
    return gift


def gift_refusal(gift: Gift, *, at: datetime) -> ApplicationError | None:
    """Why the gift cannot be redeemed now, or None."""
    if gift.status == GiftStatus.REDEEMED:
        return ApplicationError(
            code=GiftErrorCode.ALREADY_REDEEMED,
            message="This gift has already been redeemed.",
            status=409,
        )
    if gift.status == GiftStatus.VOIDED:
        return ApplicationError(
            code=GiftErrorCode.VOIDED, message="This gift was refunded.", status=409
        )
    if at > gift.redeemable_until:
        return ApplicationError(
            code=GiftErrorCode.EXPIRED,
            message="This gift could be redeemed until "
            f"{gift.redeemable_until:%d %B %Y}; it has expired.",
            status=410,
        )
    return None


@transaction.atomic
def gift_redeem(*, user: User, code: str) -> Gift:
    """Give the reader the gift's plan for its months, from now (after any gift they are
    still reading on). A code redeems once (409 ``gift_already_redeemed``); a reader with a
    live subscription is refused (409 ``already_subscribed``); an unknown code is 404, a
    refunded one 409 ``gift_voided``, an expired one 410 ``gift_expired``."""
    gift = _gift_for_update(code)
    now = timezone.now()
    refusal = gift_refusal(gift, at=now)
    if refusal is not None:
        raise refusal
    if Subscription.objects.filter(user=user, status__in=LIVE_STATUSES).exists():
        raise ApplicationError(
            code=GiftErrorCode.ALREADY_SUBSCRIBED,
            message="You already have a subscription; a gift can be redeemed by a reader "
            "without one.",
            status=409,
        )
    running = (
        Entitlement.objects.filter(
            user=user, source=EntitlementSource.GIFT, revoked_at__isnull=True, ends_at__gt=now
        )
        .order_by("-ends_at")
        .first()
    )
    starts_at = running.ends_at if running else now
    plan = gift.plan
    gift.entitlement = entitlement_grant(
        user=user,
        source=EntitlementSource.GIFT,
        starts_at=starts_at,
        ends_at=add_months(starts_at, gift.months),
        titles=None if plan.all_titles else list(plan.titles.all()),
        reference=f"gift:{gift.pk}",
        note=f"Gift of {plan.name} for {gift.months} months",
    )
    gift.status, gift.redeemed_by, gift.redeemed_at = GiftStatus.REDEEMED, user, now
    gift.save(update_fields=["status", "redeemed_by", "redeemed_at", "entitlement"])
    logger.info("User %s redeemed gift %s until %s", user.pk, gift.pk, gift.entitlement.ends_at)
    return gift


def gift_recipient_emails_send(*, at: datetime | None = None) -> int:
    """Record the recipient's email of every paid gift whose ``send_at`` has come (once per
    gift); return how many were recorded now."""
    now = at or timezone.now()
    due = Gift.objects.filter(status=GiftStatus.REDEEMABLE, recipient_sent_at__isnull=True).exclude(
        recipient_email=""
    )
    due = due.filter(send_at__isnull=True) | due.filter(send_at__lte=now)
    sent = 0
    for gift_id in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            gift = Gift.objects.select_for_update().get(pk=gift_id)
            if gift.recipient_sent_at is not None or gift.status != GiftStatus.REDEEMABLE:
                continue
            emails.gift_received_record(gift=gift, code=codes.code_of(gift.code_salt))
            gift.recipient_sent_at = now
            gift.save(update_fields=["recipient_sent_at"])
            sent += 1
    return sent


def gift_reminders_send(*, at: datetime | None = None) -> int:
    """Record "your gift ends in 7 days" for each redeemed gift ending within a week whose
    reader has no live subscription (once per gift); return how many now."""
    now = at or timezone.now()
    due = Gift.objects.filter(
        status=GiftStatus.REDEEMED,
        reminder_sent_at__isnull=True,
        entitlement__revoked_at__isnull=True,
        entitlement__ends_at__gt=now,
        entitlement__ends_at__lte=now + REMINDER_BEFORE,
    )
    sent = 0
    for gift_id in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            gift = (
                Gift.objects.select_for_update(of=("self",))
                .select_related("entitlement")
                .get(pk=gift_id)
            )
            reader = gift.redeemed_by
            if gift.reminder_sent_at is not None or reader is None or gift.entitlement is None:
                continue
            subscribed = Subscription.objects.filter(user=reader, status__in=LIVE_STATUSES)
            if not subscribed.exists():
                emails.gift_ending_record(gift=gift, reader=reader)
                sent += 1
            gift.reminder_sent_at = now
            gift.save(update_fields=["reminder_sent_at"])
    return sent
