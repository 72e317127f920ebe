"""Push the gift prices (each plan on sale, for 1, 3, 6 and 12 months) to Stripe."""

from typing import Any

from django.core.management.base import BaseCommand

from gifts.services import gift_prices_push


class Command(BaseCommand):
    help = "Create the one-time Stripe prices of gift memberships for every plan on sale."

    def handle(self, *args: Any, **options: Any) -> None:
        done = gift_prices_push()
        self.stdout.write(f"{done} gift prices in step with Stripe")
