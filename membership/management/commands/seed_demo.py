"""``manage.py seed_demo``: load the demo catalogue, plans, an admin and three readers."""

from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from membership.demo_content import TITLES, demo_articles
from membership.models import Article, EntitlementSource, Plan, Title
from membership.services import comp_grant, trial_start, trials_end

ADMIN_EMAIL = "admin@masthead.localhost"
ADMIN_PASSWORD = "masthead-admin-demo"  # noqa: S105 (a demo login, printed on purpose)
READER_PASSWORD = "read-all-about-it"  # noqa: S105 (a demo login, printed on purpose)
TRIAL_READER = "reader.trial@masthead.localhost"
LAPSED_READER = "reader.lapsed@masthead.localhost"
NEW_READER = "reader.new@masthead.localhost"
COMP_READER = "reader.comp@masthead.localhost"
ESSENTIAL_TITLES = ("evening-courier", "daily-ledger", "sunday-chronicle", "northern-herald")


class Command(BaseCommand):
    help = (
        "Load Masthead's demo data: about 12 titles with 200 articles (one free title, a few "
        "free articles), two plans, an admin and four readers (mid-trial, trial lapsed, never "
        "trialled, complimentary access). Safe to run again: rows are found by slug, headline "
        "and email, so a second run changes no counts and keeps passwords. Prints the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        quiet = options["no_progress"] or options["verbosity"] == 0
        with transaction.atomic():
            titles = titles_seed()
            articles_seed(titles=titles, now=now, quiet=quiet)
            plans_seed(titles=titles)
            admin = user_seed(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, name="Demo Admin")
            readers_seed(admin=admin, titles=titles, now=now)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Title.objects.count()} titles, "
                f"{Article.objects.count()} articles, {Plan.objects.count()} plans."
            )
        )
        self.stdout.write("Logins (unchanged if you changed them since the first run):")
        self.stdout.write(f"  admin    {ADMIN_EMAIL} / {ADMIN_PASSWORD}  (at /admin/)")
        for email, state in (
            (TRIAL_READER, "mid-trial, about a week left"),
            (LAPSED_READER, "trial ended, sees 'subscribe'"),
            (NEW_READER, "never trialled, sees 'start your free trial'"),
            (COMP_READER, "complimentary access to the Essentials titles"),
        ):
            self.stdout.write(f"  reader   {email} / {READER_PASSWORD}  ({state})")


def titles_seed() -> dict[str, Title]:
    """Create or refresh the demo titles; return them by slug."""
    titles = {}
    for item in TITLES:
        titles[item.slug], _ = Title.objects.update_or_create(
            slug=item.slug,
            defaults={
                "name": item.name,
                "publisher": item.publisher,
                "description": item.description,
                "is_premium": item.is_premium,
            },
        )
    return titles


def articles_seed(*, titles: dict[str, Title], now: datetime, quiet: bool) -> None:
    """Create or refresh the demo articles, dated back from ``now``."""
    for item in tqdm(demo_articles(), desc="Articles", unit="article", disable=quiet):
        Article.objects.update_or_create(
            title=titles[item.title_slug],
            headline=item.headline,
            defaults={
                "standfirst": item.standfirst,
                "lead": "",
                "body": item.body,
                "author": item.author,
                "section": item.section,
                "published_at": now - item.age,
                "is_free": item.is_free,
            },
        )


def plans_seed(*, titles: dict[str, Title]) -> None:
    """Create or refresh the two plans: every title, and the national papers only."""
    Plan.objects.update_or_create(
        slug="complete",
        defaults={
            "name": "Masthead Complete",
            "description": "Every premium title in the app, newspapers and magazines.",
            "monthly_amount": 1299,
            "yearly_amount": 11999,
            "all_titles": True,
            "display_order": 1,
            "is_active": True,
        },
    )
    essentials, _ = Plan.objects.update_or_create(
        slug="essentials",
        defaults={
            "name": "Masthead Essentials",
            "description": "The national and regional newspapers, every day.",
            "monthly_amount": 699,
            "yearly_amount": 6499,
            "all_titles": False,
            "display_order": 0,
            "is_active": True,
        },
    )
    essentials.titles.set([titles[slug] for slug in ESSENTIAL_TITLES])


def user_seed(*, email: str, password: str, name: str, staff: bool = True) -> User:
    """Return the account for ``email``, creating it with ``password`` (hashed once); its
    address is verified (allauth's ``EmailAddress``), so a demo reader may start a trial."""
    user, created = User.objects.get_or_create(
        email=email, defaults={"full_name": name, "is_staff": staff, "is_superuser": staff}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": True}
    )
    return user


def readers_seed(*, admin: User, titles: dict[str, Title], now: datetime) -> None:
    """Create the demo readers, each with their trial or comp written through the services."""
    half = timedelta(days=settings.TRIAL_DAYS // 2)
    trial_seed(
        user=user_seed(
            email=TRIAL_READER, password=READER_PASSWORD, name="Tess Trial", staff=False
        ),
        starts_at=now - half,
    )
    lapsed_start = now - timedelta(days=settings.TRIAL_DAYS + 16)
    trial_seed(
        user=user_seed(
            email=LAPSED_READER, password=READER_PASSWORD, name="Lee Lapsed", staff=False
        ),
        starts_at=lapsed_start,
    )
    user_seed(email=NEW_READER, password=READER_PASSWORD, name="Nia New", staff=False)
    comp_reader = user_seed(
        email=COMP_READER, password=READER_PASSWORD, name="Cam Comp", staff=False
    )
    if not comp_reader.entitlements.filter(source=EntitlementSource.COMP).exists():
        comp_grant(
            user=comp_reader,
            ends_at=now + timedelta(days=90),
            note="Demo: a journalist reviewing the Essentials titles.",
            actor=admin,
            titles=[titles[slug] for slug in ESSENTIAL_TITLES],
        )


def trial_seed(*, user: User, starts_at: datetime) -> None:
    """Give ``user`` the cardless trial that started at ``starts_at``, unless they have had
    one; a trial already over is left ended, as the closing sweep would."""
    if user.trial_used_at is not None:
        return
    trial = trial_start(user=user, at=starts_at)
    if trial.ends_at <= timezone.now():
        trials_end(trial_ids=[trial.pk], at=trial.ends_at)
