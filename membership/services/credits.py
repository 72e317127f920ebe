"""Credit writes: a paid pack adds credits once, a credit unlocks one article for good, a
refund removes what is left of its pack. The reader's ``CreditAccount`` row is locked by
each, so the balance never drops below zero, whatever runs at once."""

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from membership.access import article_access
from membership.models import (
    Article,
    CreditAccount,
    CreditPurchase,
    CreditPurchaseStatus,
    CreditUnlock,
    EntitlementSource,
)
from membership.services.entitlements import entitlement_grant

logger = logging.getLogger(__name__)

# An unlocked article stays the reader's: its entitlement's window never closes.
FOREVER = datetime(9999, 12, 31, tzinfo=UTC)


def _account_for_update(user: User) -> CreditAccount:
    """The reader's credit account, created when missing, its row locked until commit."""
    found = CreditAccount.objects.select_for_update().filter(user=user).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            CreditAccount.objects.create(user=user)
    except IntegrityError:  # created meanwhile
        pass
    return CreditAccount.objects.select_for_update().get(user=user)


@transaction.atomic
def credits_add(
    *, user: User, reference: str, credits: int, pack: str, payment_ref: str = ""
) -> tuple[CreditPurchase, bool]:
    """Add a paid pack's ``credits`` to the reader's balance, once per ``reference`` (the
    Checkout session); return the purchase and whether this call added it."""
    account = _account_for_update(user)
    existing = CreditPurchase.objects.filter(reference=reference).first()
    if existing is not None:
        return existing, False
    purchase = CreditPurchase.objects.create(
        user=user,
        reference=reference,
        payment_ref=payment_ref,
        pack=pack,
        credits=credits,
        credits_left=credits,
    )
    account.balance += credits
    account.updated_at = timezone.now()
    account.save(update_fields=["balance", "updated_at"])
    logger.info("User %s bought %s credits (%s)", user.pk, credits, reference)
    return purchase, True


def no_credits() -> ApplicationError:
    return ApplicationError(
        code="no_credits",
        message="You have no credits left. Buy a pack of credits, or choose a plan.",
        status=402,
    )


@transaction.atomic
def credit_spend(*, user: User, article: Article) -> CreditUnlock:
    """Spend one credit on ``article``: the reader may read it for good. Unlocking it again
    spends nothing. Refuses ``no_credits`` (402) and, for an article the reader may read
    already, ``already_readable`` (409)."""
    account = _account_for_update(user)
    unlocked = CreditUnlock.objects.filter(user=user, article=article).first()
    if unlocked is not None:
        return unlocked
    if article_access(reader=user, article=article).granted:
        raise ApplicationError(
            code="already_readable", message="You can read this article already.", status=409
        )
    purchase = (
        CreditPurchase.objects.select_for_update()
        .filter(user=user, credits_left__gt=0, status=CreditPurchaseStatus.PAID)
        .order_by("created_at", "pk")
        .first()
    )
    if account.balance < 1 or purchase is None:
        raise no_credits()
    purchase.credits_left -= 1
    purchase.save(update_fields=["credits_left"])
    account.balance -= 1
    account.updated_at = timezone.now()
    account.save(update_fields=["balance", "updated_at"])
    entitlement = entitlement_grant(
        user=user,
        source=EntitlementSource.CREDIT,
        ends_at=FOREVER,
        article=article,
        reference=f"credit:{purchase.reference}",
        note=f"Unlocked with a credit: {article.headline}",
    )
    unlock = CreditUnlock.objects.create(
        user=user, article=article, purchase=purchase, entitlement=entitlement
    )
    logger.info("User %s unlocked article %s with a credit", user.pk, article.pk)
    return unlock


@transaction.atomic
def credits_refund(*, reference: str = "", payment_ref: str = "") -> CreditPurchase | None:
    """Remove the unspent credits of the purchase paid by Checkout session ``reference`` (or
    payment intent ``payment_ref``): it was refunded. Articles unlocked with its spent
    credits stay unlocked. Refunding twice removes nothing more; None for no purchase."""
    found = CreditPurchase.objects.filter(
        **({"reference": reference} if reference else {"payment_ref": payment_ref})
    ).first()
    if found is None or not (reference or payment_ref):
        return None
    account = _account_for_update(found.user)
    purchase = CreditPurchase.objects.select_for_update().get(pk=found.pk)
    if purchase.status == CreditPurchaseStatus.REFUNDED:
        return purchase
    removed = purchase.credits_left
    purchase.credits_left = 0
    purchase.status = CreditPurchaseStatus.REFUNDED
    purchase.refunded_at = timezone.now()
    purchase.save(update_fields=["credits_left", "status", "refunded_at"])
    account.balance -= removed
    account.updated_at = timezone.now()
    account.save(update_fields=["balance", "updated_at"])
    logger.info("Refund of %s removed %s unspent credits", purchase.reference, removed)
    return purchase
