"""``manage.py seed_demo``: the demo catalogue, plans and readers, loaded idempotently."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from membership.access import AccessReason, article_access
from membership.management.commands import seed_demo
from membership.models import (
    Article,
    Entitlement,
    EntitlementEvent,
    Plan,
    Title,
    Trial,
    TrialStatus,
)

pytestmark = pytest.mark.django_db

MODELS = (Title, Article, Plan, User, Trial, Entitlement, EntitlementEvent)


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    """Argon2 costs ~90 ms a password; the promise under test is not the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--no-progress", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def premium_article(title_slug: str) -> Article:
    return Article.objects.select_related("title").filter(title__slug=title_slug, is_free=False)[0]


def test_running_twice_changes_no_counts_and_keeps_the_passwords() -> None:
    seed()
    first, hashes = counts(), dict(User.objects.values_list("email", "password"))

    seed()

    assert counts() == first
    assert dict(User.objects.values_list("email", "password")) == hashes
    assert first["Title"] == 12 and first["Article"] == 200 and first["Plan"] == 2


def test_it_prints_logins_that_work() -> None:
    output = seed()

    assert f"{seed_demo.ADMIN_EMAIL} / {seed_demo.ADMIN_PASSWORD}" in output
    assert f"{seed_demo.TRIAL_READER} / {seed_demo.READER_PASSWORD}" in output
    admin = User.objects.get(email=seed_demo.ADMIN_EMAIL)
    assert admin.is_superuser and admin.check_password(seed_demo.ADMIN_PASSWORD)
    reader = User.objects.get(email=seed_demo.LAPSED_READER)
    assert not reader.is_staff and reader.check_password(seed_demo.READER_PASSWORD)


def test_each_demo_reader_meets_the_paywall_they_were_seeded_for() -> None:
    seed()
    article = premium_article("frontier-science")
    readers = {
        email: User.objects.get(email=email)
        for email in (
            seed_demo.TRIAL_READER,
            seed_demo.LAPSED_READER,
            seed_demo.NEW_READER,
            seed_demo.COMP_READER,
        )
    }

    def reason(email: str, on: Article = article) -> AccessReason:
        return article_access(reader=readers[email], article=on).reason

    assert reason(seed_demo.TRIAL_READER) == AccessReason.TRIAL
    assert reason(seed_demo.LAPSED_READER) == AccessReason.SUBSCRIBE
    assert reason(seed_demo.NEW_READER) == AccessReason.START_TRIAL
    assert reason(seed_demo.COMP_READER, premium_article("daily-ledger")) == AccessReason.COMP
    assert reason(seed_demo.COMP_READER) == AccessReason.START_TRIAL
    lapsed = Trial.objects.get(user=readers[seed_demo.LAPSED_READER])
    assert lapsed.status == TrialStatus.ENDED and lapsed.ended_at == lapsed.ends_at
    days_left = Trial.objects.get(user=readers[seed_demo.TRIAL_READER]).ends_at - timezone.now()
    assert timedelta(days=6) < days_left <= timedelta(days=7)


def test_the_catalogue_is_mostly_premium_with_a_free_title_and_a_few_free_articles() -> None:
    seed()

    assert Title.objects.filter(is_premium=False).count() == 1
    free = Article.objects.filter(is_free=True).count()
    assert 0 < free < 40
    assert Article.objects.filter(published_at__lt=timezone.now() - timedelta(weeks=3)).exists()
    assert Article.objects.exclude(section="").exclude(author="").count() == 200
    complete, essentials = Plan.objects.get(slug="complete"), Plan.objects.get(slug="essentials")
    assert complete.all_titles and not essentials.all_titles
    assert essentials.titles.count() == len(seed_demo.ESSENTIAL_TITLES)
    assert essentials.monthly_amount < complete.monthly_amount
    assert complete.yearly_amount < 12 * complete.monthly_amount


def test_the_politics_piece_is_shaped_like_the_reader_page() -> None:
    seed()

    piece = Article.objects.get(title__slug="evening-courier", headline__contains="Kastrovia")
    paragraphs = piece.body.split("\n\n")
    assert piece.section == "Politics" and piece.author and not piece.is_free
    assert len(paragraphs) == 12
    assert piece.lead == paragraphs[0]


def test_no_demo_article_body_contains_another() -> None:
    seed()
    bodies = list(Article.objects.values_list("body", flat=True))

    assert len(set(bodies)) == len(bodies)
    for i, body in enumerate(bodies):
        assert not any(body in other for j, other in enumerate(bodies) if i != j)
