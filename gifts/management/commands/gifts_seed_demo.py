"""The demo's offer code and gift code, made through Stripe (the sandbox under `make run`)
as a reader would: the offer pushed as a coupon and promotion code, the gift bought in
Checkout and paid on the hosted page with Stripe's test card. Runs after the plans are
pushed; a second run reuses what the first made. Never fails the start: problems are
printed."""

import logging
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.core.management.base import BaseCommand

from accounts.models import User
from billing.errors import BillingError
from billing.models import Offer, SyncStatus
from billing.offers import offer_push
from billing.one_time import one_time_payment_sync
from gifts import codes
from gifts.models import Gift, GiftStatus
from gifts.services import gift_checkout_start, gift_prices_push
from membership.management.commands.seed_demo import user_seed
from membership.models import Plan

logger = logging.getLogger(__name__)

OFFER_CODE = "WELCOME50"
BUYER_EMAIL = "gift-buyer@masthead.localhost"
BUYER_PASSWORD = "read-all-about-it"  # noqa: S105 (a demo login, printed on purpose)
TEST_CARD = "4242424242424242"


class Command(BaseCommand):
    help = "Make (once) and print the demo's offer code and gift code, through Stripe."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            gift_prices_push()
            offer = self._offer()
            gift_code = self._gift_code()
        except (BillingError, URLError, OSError) as exc:
            self.stderr.write(f"Demo offer and gift not made (is Stripe reachable?): {exc}")
            return
        self.stdout.write("Demo offer and gift:")
        if offer is not None:
            self.stdout.write(f"  offer code {offer.code}: {offer.name}, /offers/{offer.code}/")
        if gift_code:
            self.stdout.write(
                f"  gift code  {gift_code}: redeem at /gifts/redeem/ (bought by {BUYER_EMAIL} "
                f"/ {BUYER_PASSWORD})"
            )

    def _offer(self) -> Offer | None:
        offer, made = Offer.objects.get_or_create(
            code=OFFER_CODE,
            defaults={
                "name": "Welcome: half price for 3 months",
                "percent_off": 50,
                "duration": "repeating",
                "duration_in_months": 3,
                "max_redemptions": 500,
            },
        )
        if made or offer.status != SyncStatus.SYNCED:
            offer = offer_push(offer_id=offer.pk)
        return offer

    def _gift_code(self) -> str:
        waiting = Gift.objects.filter(buyer__email=BUYER_EMAIL, status=GiftStatus.REDEEMABLE)
        gift = waiting.order_by("-pk").first()
        if gift is None:
            plan = Plan.objects.filter(is_active=True).order_by("display_order").first()
            if plan is None:
                return ""
            buyer = _buyer()
            started = gift_checkout_start(
                buyer=buyer, plan_slug=plan.slug, months=3, message="Enjoy Masthead!"
            )
            form = urlencode({"card_number": TEST_CARD}).encode()
            request = Request(started.url, data=form, method="POST")  # noqa: S310 (our Stripe)
            try:
                urlopen(request, timeout=10).close()  # noqa: S310
            except URLError as exc:  # the success page (this site) may not be up yet
                logger.info("After paying the demo gift: %s", exc)
            one_time_payment_sync(session_id=started.payment.checkout_session_id)
            gift = Gift.objects.filter(payment=started.payment).first()
        return codes.code_of(gift.code_salt) if gift else ""


def _buyer() -> User:
    return user_seed(email=BUYER_EMAIL, password=BUYER_PASSWORD, name="Gil Giver", staff=False)
