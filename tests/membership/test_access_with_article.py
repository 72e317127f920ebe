"""The decision asked in the article's own statement (``article_get(reader=...)``) is the
decision ``article_access`` asks on its own, for every kind of reader, to the second."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from membership.access import AccessDecision, AccessReason, article_access
from membership.models import Article, CreditAccount, EntitlementSource
from membership.selectors import article_get
from tests.factories import ArticleFactory, EntitlementFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


def asked_alone(reader, article_id: int) -> AccessDecision:  # type: ignore[no-untyped-def]
    article = Article.objects.select_related("title").get(pk=article_id)
    return article_access(reader=reader, article=article)


def asked_with_article(reader, article_id: int) -> AccessDecision:  # type: ignore[no-untyped-def]
    article = article_get(article_id=article_id, reader=reader)
    with CaptureQueriesContext(connection) as deciding:
        decision = article_access(reader=reader, article=article)
    assert len(deciding) == 0, "the decision came with the article"
    return decision


def readers(article: Article) -> dict[str, object]:
    """One reader in each state the paywall tells apart."""
    unverified = UserFactory(email_verified=False)
    verified = UserFactory()
    trialled = UserFactory(trial_used_at=NOW - timedelta(days=30))
    failing = UserFactory(trial_used_at=NOW - timedelta(days=30), payment_issue_since=NOW)
    elsewhere = UserFactory()
    EntitlementFactory(user=elsewhere, source=EntitlementSource.SUBSCRIPTION, all_titles=False)
    elsewhere.entitlements.get().titles.add(TitleFactory())
    comp = UserFactory()
    comp_row = EntitlementFactory(user=comp, all_titles=False)
    comp_row.titles.add(article.title)
    subscriber = UserFactory()
    EntitlementFactory(user=subscriber, source=EntitlementSource.SUBSCRIPTION)
    unlocked = UserFactory(trial_used_at=NOW - timedelta(days=30))
    EntitlementFactory(
        user=unlocked, source=EntitlementSource.CREDIT, all_titles=False, article=article
    )
    other_unlock = UserFactory(trial_used_at=NOW - timedelta(days=30))
    EntitlementFactory(
        user=other_unlock,
        source=EntitlementSource.CREDIT,
        all_titles=False,
        article=ArticleFactory(title=article.title),
    )
    with_credits = UserFactory(trial_used_at=NOW - timedelta(days=30))
    CreditAccount.objects.create(user=with_credits, balance=3)
    return {
        "unverified": unverified,
        "verified": verified,
        "trialled": trialled,
        "failing": failing,
        "elsewhere": elsewhere,
        "comp": comp,
        "subscriber": subscriber,
        "unlocked": unlocked,
        "other_unlock": other_unlock,
        "with_credits": with_credits,
    }


EXPECTED = {
    "unverified": AccessDecision(False, AccessReason.VERIFY_EMAIL),
    "verified": AccessDecision(False, AccessReason.START_TRIAL),
    "trialled": AccessDecision(False, AccessReason.SUBSCRIBE),
    "failing": AccessDecision(False, AccessReason.PAYMENT_FAILED),
    "elsewhere": AccessDecision(False, AccessReason.UPGRADE),
    "comp": AccessDecision(True, AccessReason.COMP),
    "subscriber": AccessDecision(True, AccessReason.SUBSCRIPTION),
    "unlocked": AccessDecision(True, AccessReason.CREDIT),
    "other_unlock": AccessDecision(False, AccessReason.SUBSCRIBE),
    "with_credits": AccessDecision(False, AccessReason.SUBSCRIBE, credits=3),
}


@time_machine.travel(NOW, tick=False)
def test_every_kind_of_reader_gets_the_same_decision_either_way() -> None:
    article = ArticleFactory()

    for name, reader in readers(article).items():
        alone = asked_alone(reader, article.pk)
        assert alone == EXPECTED[name], name
        assert asked_with_article(reader, article.pk) == alone, name


def test_access_ends_at_the_same_second_either_way() -> None:
    article = ArticleFactory()
    reader = UserFactory(trial_used_at=NOW - timedelta(days=30))
    EntitlementFactory(user=reader, starts_at=NOW, ends_at=NOW + timedelta(days=14))

    for moment, granted in (
        (NOW - timedelta(seconds=1), False),
        (NOW, True),
        (NOW + timedelta(days=14) - timedelta(microseconds=1), True),
        (NOW + timedelta(days=14), False),
    ):
        with time_machine.travel(moment, tick=False):
            assert asked_alone(reader, article.pk).granted is granted, moment
            assert asked_with_article(reader, article.pk).granted is granted, moment


def test_open_articles_bring_nothing_and_stay_open() -> None:
    reader = UserFactory()
    free = ArticleFactory(is_free=True)
    free_title = ArticleFactory(title=TitleFactory(is_premium=False))

    for article in (free, free_title):
        fetched = article_get(article_id=article.pk, reader=reader)
        assert fetched.reader_access_rows is None  # type: ignore[attr-defined]
        assert article_access(reader=reader, article=fetched).reason == AccessReason.FREE_ARTICLE


def test_an_article_fetched_for_one_reader_is_decided_afresh_for_another() -> None:
    article = ArticleFactory()
    subscriber, stranger = UserFactory(), UserFactory()
    EntitlementFactory(user=subscriber, source=EntitlementSource.SUBSCRIPTION)
    fetched = article_get(article_id=article.pk, reader=subscriber)

    with CaptureQueriesContext(connection) as deciding:
        decision = article_access(reader=stranger, article=fetched)

    assert len(deciding) == 1
    assert not decision.granted
    assert article_access(reader=subscriber, article=fetched).granted


def test_a_decision_at_another_moment_is_asked_at_that_moment() -> None:
    article = ArticleFactory()
    reader = UserFactory()
    EntitlementFactory(user=reader, ends_at=datetime.now(UTC) + timedelta(hours=1))
    fetched = article_get(article_id=article.pk, reader=reader)

    later = datetime.now(UTC) + timedelta(hours=2)

    assert article_access(reader=reader, article=fetched).granted
    assert not article_access(reader=reader, article=fetched, at=later).granted
