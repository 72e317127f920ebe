"""``manage.py publishers_seed_demo``: a month of reads, its payments and its closed statement."""

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from billing.models import Customer, WebhookEvent, WebhookEventStatus
from membership.models import Article, Title
from publishers.models import ReadRow, Statement, TitleStaff
from publishers.statements import month_close, month_previous, month_start

PUBLISHER_EMAIL = "publisher@masthead.localhost"
PUBLISHER_PASSWORD = "read-the-statement"  # noqa: S105 (a demo login, printed on purpose)
PUBLISHER_TITLES = ("evening-courier", "daily-ledger")
READERS = 24
SOURCES = ("subscription",) * 5 + ("trial", "comp")


def _demo_user(n: int) -> User:
    user, created = User.objects.get_or_create(
        email=f"reader.demo{n}@masthead.localhost", defaults={"full_name": f"Demo Reader {n}"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _paid(user: User, amount: int, at: datetime) -> None:
    """A stored paid invoice of the demo reader, already applied (nothing to do at Stripe)."""
    customer, _ = Customer.objects.get_or_create(
        user=user, defaults={"stripe_id": f"cus_demo_reader{user.pk}"}
    )
    invoice_id = f"in_demo_{user.pk}_{at:%Y%m}"
    payload = {
        "id": f"evt_demo_{invoice_id}",
        "type": "invoice.paid",
        "created": int(at.timestamp()),
        "data": {
            "object": {
                "id": invoice_id,
                "object": "invoice",
                "customer": customer.stripe_id,
                "amount_paid": amount,
                "currency": "gbp",
                "status": "paid",
                "status_transitions": {"paid_at": int(at.timestamp())},
            }
        },
    }
    WebhookEvent.objects.get_or_create(
        stripe_id=payload["id"],
        defaults={
            "type": "invoice.paid",
            "payload": payload,
            "status": WebhookEventStatus.SUCCEEDED,
            "received_at": at,
            "finished_at": at,
        },
    )


def _reads(users: list[User], articles: list[Article], first: date, last: date) -> list[ReadRow]:
    """Reads on most days between ``first`` and ``last``, the same on every run."""
    rows = []
    chance = random.Random(f"{first}")
    for user in users:
        source = SOURCES[user.pk % len(SOURCES)]
        day = first
        while day <= last:
            for article in chance.sample(articles, k=chance.randint(0, 3)):
                seconds = chance.choice((12, 25, 45, 90, 180, 420))
                rows.append(
                    ReadRow(
                        user=user,
                        article=article,
                        title_id=article.title_id,
                        day=day,
                        source=source,
                        seconds=seconds,
                        progress=min(1.0, seconds / 300),
                        qualified=seconds >= 30,
                    )
                )
            day += timedelta(days=1)
    return rows


class Command(BaseCommand):
    help = (
        "Load the publishers' demo: demo readers with a month of reads and their payments "
        "last month, reads this month so far, last month's closed statements, and a "
        "publisher's staff login that sees two titles. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--readers", type=int, default=READERS)

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.now().date()
        last_month = month_previous(month_start(today))
        articles = list(Article.objects.filter(is_free=False, title__is_premium=True)[:60])
        if not articles:
            self.stderr.write("No premium articles: run manage.py seed_demo first.")
            return
        with transaction.atomic():
            users = [_demo_user(n) for n in range(1, options["readers"] + 1)]
            for user in users:
                if SOURCES[user.pk % len(SOURCES)] == "subscription":
                    paid_at = datetime.combine(
                        last_month + timedelta(days=user.pk % 20), time(9), UTC
                    )
                    _paid(user, 999, paid_at)
            rows = _reads(users, articles, last_month, today - timedelta(days=1))
            ReadRow.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
            month_close(month=last_month)
            staff = _publisher_staff()
        self.stdout.write(
            self.style.SUCCESS(
                f"Publishers' demo ready: {ReadRow.objects.count()} ledger rows, "
                f"{Statement.objects.filter(month=last_month).count()} statements for "
                f"{last_month:%B %Y}."
            )
        )
        self.stdout.write(
            f"  publisher {staff.email} / {PUBLISHER_PASSWORD}  (sees "
            f"{', '.join(PUBLISHER_TITLES)} at /admin/)"
        )


def _publisher_staff() -> User:
    user, created = User.objects.get_or_create(
        email=PUBLISHER_EMAIL, defaults={"full_name": "Pat Publisher", "is_staff": True}
    )
    if created:
        user.set_password(PUBLISHER_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": True}
    )
    for title in Title.objects.filter(slug__in=PUBLISHER_TITLES):
        TitleStaff.objects.get_or_create(user=user, title=title)
    return user
