"""``manage.py billing_reconcile``: repair subscriptions that drifted from Stripe."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from billing.reconcile import subscriptions_reconcile


class Command(BaseCommand):
    help = (
        "List every subscription at Stripe (canceled ones too), compare each with Masthead's "
        "copy (status, period end, cancel_at, price), repair those that drifted through the "
        "same sync service as the webhooks (readers' access follows), add live ones Masthead "
        "lacks, and name the subscriptions Stripe no longer has. Prints what changed. Beat "
        "runs the same nightly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["no_progress"] or options["verbosity"] == 0
        with tqdm(desc="Subscriptions", unit="subscription", disable=quiet) as bar:
            report = subscriptions_reconcile(on_checked=lambda stripe_id: bar.update())
        summary, *details = report.lines()
        for line in details:
            self.stdout.write(line)
        style = self.style.SUCCESS if report.in_step else self.style.WARNING
        self.stdout.write(style(summary))
