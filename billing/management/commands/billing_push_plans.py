"""``manage.py billing_push_plans``: push plans to Stripe now, and refresh the portal's list."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from billing import stripe_gateway
from billing.errors import BillingError
from billing.plans import plan_push
from membership.models import Plan


class Command(BaseCommand):
    help = (
        "Create or update each plan's Stripe product and its monthly and yearly prices, now "
        "(not through Celery), then the Customer Portal's list of plans. A changed amount "
        "makes a new price and takes the old one off sale; a plan off sale has its prices "
        "taken off sale. Safe to run again: what already matches is left alone. Plans that "
        "Stripe refuses are reported and the others still pushed; the exit status is then 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--plan", metavar="SLUG", help="Push only this plan (default: every plan)."
        )
        parser.add_argument(
            "--wait-for-stripe",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Wait up to this long for Stripe (or the sandbox) to answer before pushing.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        plans = Plan.objects.order_by("display_order", "pk")
        if options["plan"]:
            plans = plans.filter(slug=options["plan"])
            if not plans.exists():
                raise CommandError(f"No plan with slug {options['plan']!r}.")
        quiet = options["no_progress"] or options["verbosity"] == 0
        self._stripe_wait(options["wait_for_stripe"])
        failures = 0
        for plan in tqdm(list(plans), desc="Plans", unit="plan", disable=quiet):
            try:
                prices = plan_push(plan_id=plan.pk)
            except BillingError as exc:
                failures += 1
                self.stderr.write(f"{plan.slug}: failed: {exc.message} ({exc.code})")
                continue
            self.stdout.write(
                f"{plan.slug}: {prices.status}, product {prices.product_id or '-'}, "
                f"monthly {prices.monthly_price_id or '-'}, yearly {prices.yearly_price_id or '-'}"
            )
        if failures:
            raise CommandError(f"{failures} plan(s) could not be pushed; see above.")
        self.stdout.write(self.style.SUCCESS(f"{plans.count()} plan(s) in step with Stripe."))

    def _stripe_wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while seconds and not stripe_gateway.stripe_reachable():
            if time.monotonic() > deadline:
                raise CommandError(f"Stripe did not answer within {seconds:g} s.")
            time.sleep(0.5)
