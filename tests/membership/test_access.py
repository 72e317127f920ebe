"""article_access and reader_coverage: who may read what, and the reason given."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from membership.access import AccessReason, article_access, reader_coverage
from membership.models import Entitlement
from membership.services import comp_grant, entitlement_grant, entitlement_revoke, trial_start
from tests.factories import ArticleFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def decide(reader, article):  # type: ignore[no-untyped-def]
    decision = article_access(reader=reader, article=article)
    return decision.granted, decision.reason


def test_free_articles_and_free_titles_are_open_to_anonymous_readers() -> None:
    free_article = ArticleFactory(is_free=True)
    free_title_article = ArticleFactory(title=TitleFactory(is_premium=False))

    assert decide(AnonymousUser(), free_article) == (True, AccessReason.FREE_ARTICLE)
    assert decide(None, free_title_article) == (True, AccessReason.FREE_ARTICLE)


def test_anonymous_reader_is_asked_to_sign_up() -> None:
    assert decide(AnonymousUser(), ArticleFactory()) == (False, AccessReason.SIGN_UP)


def test_signed_in_reader_who_never_trialled_is_offered_the_trial() -> None:
    assert decide(UserFactory(), ArticleFactory()) == (False, AccessReason.START_TRIAL)


def test_subscription_outranks_a_trial_in_the_reason() -> None:
    reader = UserFactory()
    trial_start(user=reader)
    entitlement_grant(
        user=reader, source="subscription", ends_at=datetime.now(UTC) + timedelta(days=30)
    )

    assert decide(reader, ArticleFactory()) == (True, AccessReason.SUBSCRIPTION)


def test_comp_for_some_titles_opens_only_those_titles() -> None:
    editor = UserFactory(is_staff=True)
    reader = UserFactory()
    covered, other = TitleFactory(), TitleFactory()
    comp_grant(
        user=reader,
        titles=[covered],
        ends_at=datetime.now(UTC) + timedelta(days=7),
        note="Press pass",
        actor=editor,
    )

    assert decide(reader, ArticleFactory(title=covered)) == (True, AccessReason.COMP)
    assert decide(reader, ArticleFactory(title=other)) == (False, AccessReason.START_TRIAL)


def test_revoked_comp_stops_access_at_once() -> None:
    reader = UserFactory()
    comp = comp_grant(
        user=reader, ends_at=datetime.now(UTC) + timedelta(days=7), note="x", actor=None
    )
    article = ArticleFactory()
    assert decide(reader, article)[0] is True

    entitlement_revoke(entitlement=comp)

    assert decide(reader, article) == (False, AccessReason.START_TRIAL)


def test_a_window_that_has_not_begun_does_not_open_anything() -> None:
    reader = UserFactory()
    with time_machine.travel(NOW, tick=False):
        entitlement_grant(
            user=reader,
            source="gift",
            starts_at=NOW + timedelta(days=1),
            ends_at=NOW + timedelta(days=31),
        )
        assert decide(reader, ArticleFactory()) == (False, AccessReason.START_TRIAL)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert decide(reader, ArticleFactory()) == (True, AccessReason.GIFT)


def test_decision_asks_what_live_covering_entitlements_say_at_every_edge() -> None:
    """article_access asks in its own SQL what ``live().covering()`` say in the ORM."""
    reader, other_reader = UserFactory(), UserFactory()
    title, other_title = TitleFactory(), TitleFactory()
    article, other_article = ArticleFactory(title=title), ArticleFactory(title=other_title)
    day = timedelta(days=1)
    with time_machine.travel(NOW - 30 * day, tick=False):
        grants = [
            ("trial", None, NOW - 10 * day, NOW - day),
            ("gift", [title], NOW, NOW + 5 * day),
            ("comp", [other_title], NOW - day, NOW + 30 * day),
            ("subscription", [title, other_title], NOW + 2 * day, NOW + 10 * day),
        ]
        for source, titles, starts_at, ends_at in grants:
            entitlement_grant(
                user=reader, source=source, titles=titles, starts_at=starts_at, ends_at=ends_at
            )
        entitlement_grant(user=other_reader, source="subscription", ends_at=NOW + 60 * day)

    expected = [
        (article, NOW - 2 * day, (True, AccessReason.TRIAL)),
        (article, NOW - day, (False, AccessReason.START_TRIAL)),  # the trial ended just now
        (article, NOW, (True, AccessReason.GIFT)),  # the gift begins just now
        (other_article, NOW, (True, AccessReason.COMP)),
        (article, NOW + 3 * day, (True, AccessReason.SUBSCRIPTION)),
        (article, NOW + 5 * day, (True, AccessReason.SUBSCRIPTION)),
        (article, NOW + 10 * day, (False, AccessReason.START_TRIAL)),
        (other_article, NOW + 10 * day, (True, AccessReason.COMP)),
    ]
    for which, at, answer in expected:
        decision = article_access(reader=reader, article=which, at=at)
        live = set(
            Entitlement.objects.live(at)
            .covering(which.title_id)
            .filter(user=reader)
            .values_list("source", flat=True)
        )
        assert (decision.granted, decision.reason) == answer, at
        assert decision.granted == bool(live), at
        assert not decision.granted or decision.reason in live, at


def test_decision_costs_one_query_for_a_signed_in_reader(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    reader = UserFactory()
    article = ArticleFactory()
    with django_assert_num_queries(1):
        article_access(reader=reader, article=article)
    with django_assert_num_queries(0):
        article_access(reader=AnonymousUser(), article=article)


def test_coverage_decides_a_whole_list_in_one_query(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    reader = UserFactory()
    covered, other = TitleFactory(), TitleFactory()
    comp_grant(
        user=reader,
        titles=[covered],
        ends_at=datetime.now(UTC) + timedelta(days=3),
        note="x",
        actor=None,
    )
    articles = [ArticleFactory(title=covered), ArticleFactory(title=other)]
    articles += [ArticleFactory(title=other, is_free=True)]

    with django_assert_num_queries(1):
        coverage = reader_coverage(reader=reader)
        reasons = [coverage.decide(a).reason for a in articles]

    assert reasons == [AccessReason.COMP, AccessReason.START_TRIAL, AccessReason.FREE_ARTICLE]
    for article in articles:
        assert coverage.decide(article) == article_access(reader=reader, article=article)


def test_a_subscriber_outside_their_plan_is_told_to_upgrade() -> None:
    reader = UserFactory()
    covered, other = TitleFactory(), TitleFactory()
    entitlement_grant(
        user=reader,
        source="subscription",
        titles=[covered],
        ends_at=datetime.now(UTC) + timedelta(days=30),
    )

    assert decide(reader, ArticleFactory(title=covered)) == (True, AccessReason.SUBSCRIPTION)
    assert decide(reader, ArticleFactory(title=other)) == (False, AccessReason.UPGRADE)


def test_a_subscriber_in_grace_outside_their_plan_is_told_to_upgrade_not_to_fix_the_card() -> None:
    reader = UserFactory(payment_issue_since=datetime.now(UTC) - timedelta(days=1))
    entitlement_grant(
        user=reader,
        source="subscription",
        titles=[TitleFactory()],
        ends_at=datetime.now(UTC) + timedelta(days=6),
    )

    assert decide(reader, ArticleFactory()) == (False, AccessReason.UPGRADE)


def test_a_comp_reader_who_had_a_trial_is_asked_to_subscribe_outside_their_titles() -> None:
    reader = UserFactory()
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        trial_start(user=reader)
    covered = TitleFactory()
    comp_grant(
        user=reader,
        titles=[covered],
        ends_at=datetime.now(UTC) + timedelta(days=7),
        note="x",
        actor=None,
    )

    assert decide(reader, ArticleFactory(title=covered)) == (True, AccessReason.COMP)
    assert decide(reader, ArticleFactory()) == (False, AccessReason.SUBSCRIBE)


def test_an_unverified_reader_is_asked_to_verify_before_the_trial() -> None:
    reader = UserFactory(email_verified=False)

    assert decide(reader, ArticleFactory()) == (False, AccessReason.VERIFY_EMAIL)

    EmailAddress.objects.filter(user=reader).update(verified=True)
    assert decide(reader, ArticleFactory()) == (False, AccessReason.START_TRIAL)


def test_an_address_that_had_a_trial_on_another_account_is_asked_to_subscribe() -> None:
    first = UserFactory(email="kit@example.com")
    trial_start(user=first)
    first.delete()
    reader = UserFactory(email="later@example.com")
    User.objects.filter(pk=reader.pk).update(email="kit@example.com")  # an address change
    reader.refresh_from_db()
    assert reader.trial_used_at is None

    assert decide(reader, ArticleFactory()) == (False, AccessReason.SUBSCRIBE)


@pytest.mark.parametrize("verified", [True, False])
def test_the_trial_facts_cost_no_extra_query_and_agree_with_the_coverage(  # type: ignore[no-untyped-def]
    django_assert_num_queries, verified
) -> None:
    reader = UserFactory(email_verified=verified)
    articles = [ArticleFactory(), ArticleFactory()]

    with django_assert_num_queries(1):
        decision = article_access(reader=reader, article=articles[0])
    with django_assert_num_queries(1):
        coverage = reader_coverage(reader=reader)
        decided = [coverage.decide(article) for article in articles]

    assert decision.reason == (AccessReason.START_TRIAL if verified else AccessReason.VERIFY_EMAIL)
    assert decided == [decision, decision]
