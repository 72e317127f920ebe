"""``manage.py billing_replay_events``: apply stored Stripe events again, here and now."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from billing.models import WebhookEventStatus
from billing.reconcile import webhook_events_for_replay, webhook_events_reapply

REPLAYABLE = (
    WebhookEventStatus.FAILED,
    WebhookEventStatus.RECEIVED,
    WebhookEventStatus.PROCESSING,
)


class Command(BaseCommand):
    help = (
        "Apply stored Stripe events again in this process, oldest first, and print how each "
        "ended. By default the failed ones; --status received picks those never applied, "
        "--status processing those stuck (a worker killed). Events already succeeded or "
        "ignored are never applied twice. Stripe is asked for the newest state of each "
        "object, so replaying an old event cannot roll anything back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--status",
            choices=[str(status) for status in REPLAYABLE],
            default=WebhookEventStatus.FAILED,
            help="Replay the events in this status (default: failed).",
        )
        parser.add_argument(
            "--type",
            action="append",
            dest="types",
            metavar="TYPE",
            help="Only events of this type, e.g. invoice.paid (repeatable).",
        )
        parser.add_argument(
            "--id",
            action="append",
            dest="stripe_ids",
            metavar="EVT_ID",
            help="Only this Stripe event, e.g. evt_123, whatever its status (repeatable).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        event_ids = webhook_events_for_replay(
            status=options["status"], types=options["types"], stripe_ids=options["stripe_ids"]
        )
        if not event_ids:
            self.stdout.write("No stored events to replay.")
            return
        quiet = options["no_progress"] or options["verbosity"] == 0
        with tqdm(total=len(event_ids), desc="Events", unit="event", disable=quiet) as bar:
            outcomes = webhook_events_reapply(
                event_ids=event_ids, on_applied=lambda event_id, outcome: bar.update()
            )
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        failed = outcomes.get(WebhookEventStatus.FAILED)
        style = self.style.WARNING if failed else self.style.SUCCESS
        self.stdout.write(style(f"Replayed {len(event_ids)} event(s): {summary}."))
