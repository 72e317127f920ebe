"""trial_start: fourteen days of every premium title, once per person for ever."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress

from core.errors import ApplicationError
from membership.access import AccessReason, article_access
from membership.models import Entitlement, EntitlementEvent, Trial, TrialEvent
from membership.services import email_canonical, email_hash, trial_start
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "canonical"),
    [
        ("Foo+x@Gmail.com", "foo@gmail.com"),
        ("f.o.o@googlemail.com", "foo@gmail.com"),
        ("Jane.Doe+news@Example.org", "jane.doe@example.org"),
        ("  reader@EXAMPLE.com ", "reader@example.com"),
    ],
)
def test_email_canonical_names_one_person_once(address: str, canonical: str) -> None:
    assert email_canonical(address) == canonical


def test_email_hash_is_keyed_and_does_not_contain_the_address() -> None:
    digest = email_hash("foo@gmail.com")
    assert len(digest) == 64
    assert "foo" not in digest
    assert digest == email_hash("F.O.O+promo@googlemail.com")


@time_machine.travel(NOW, tick=False)
def test_trial_start_grants_every_premium_title_for_fourteen_days() -> None:
    reader = UserFactory()

    trial = trial_start(user=reader)

    assert trial.started_at == NOW
    assert trial.ends_at == NOW + timedelta(days=14)
    entitlement = Entitlement.objects.get(user=reader)
    assert entitlement.source == "trial"
    assert entitlement.all_titles is True
    assert (entitlement.starts_at, entitlement.ends_at) == (NOW, NOW + timedelta(days=14))
    assert entitlement.reference == f"trial:{trial.pk}"
    assert EntitlementEvent.objects.filter(entitlement=entitlement, kind="granted").count() == 1
    assert TrialEvent.objects.filter(trial=trial, kind="started").count() == 1
    reader.refresh_from_db()
    assert reader.trial_used_at == NOW


def test_a_second_trial_on_the_same_account_is_refused() -> None:
    reader = UserFactory()
    trial_start(user=reader)

    with pytest.raises(ApplicationError) as refused:
        trial_start(user=reader)

    assert refused.value.code == "trial_already_used"
    assert refused.value.status == 409
    assert Trial.objects.count() == 1
    assert Entitlement.objects.count() == 1


def test_one_trial_per_person_across_re_registration_with_a_tagged_gmail_address() -> None:
    first = UserFactory(email="foo@gmail.com")
    trial_start(user=first)
    first.delete()

    again = UserFactory(email="Foo+x@Gmail.com")

    assert again.trial_used_at is not None, "the new account inherits the used trial"
    with pytest.raises(ApplicationError) as refused:
        trial_start(user=again)
    assert refused.value.code == "trial_already_used"
    assert Trial.objects.filter(user__isnull=True).count() == 1, "the hash outlives the account"
    assert not Entitlement.objects.filter(user=again).exists()


def test_deleting_the_account_keeps_only_a_hash_of_the_address() -> None:
    reader = UserFactory(email="private.person@example.com")
    trial = trial_start(user=reader)
    reader.delete()

    trial.refresh_from_db()
    assert trial.user is None
    stored = [str(v) for v in Trial.objects.values_list(flat=False).get(pk=trial.pk)]
    assert not any("private" in value for value in stored)


def test_access_ends_at_the_second_the_trial_ends() -> None:
    article = ArticleFactory()
    reader = UserFactory()
    with time_machine.travel(NOW, tick=False):
        trial = trial_start(user=reader)

    just_before = trial.ends_at - timedelta(seconds=1)
    with time_machine.travel(just_before, tick=False):
        decision = article_access(reader=reader, article=article)
        assert (decision.granted, decision.reason) == (True, AccessReason.TRIAL)
    with time_machine.travel(trial.ends_at, tick=False):
        decision = article_access(reader=reader, article=article)
        assert (decision.granted, decision.reason) == (False, AccessReason.SUBSCRIBE)


def test_a_cardless_trial_needs_a_verified_address() -> None:
    reader = UserFactory(email_verified=False)

    with pytest.raises(ApplicationError) as refused:
        trial_start(user=reader)

    assert (refused.value.code, refused.value.status) == ("email_unverified", 403)
    assert not Trial.objects.exists() and not Entitlement.objects.exists()
    reader.refresh_from_db()
    assert reader.trial_used_at is None
    EmailAddress.objects.filter(user=reader).update(verified=True)
    assert trial_start(user=reader).user == reader


def test_a_verified_address_that_is_not_the_primary_one_does_not_count() -> None:
    reader = UserFactory(email_verified=False)
    EmailAddress.objects.create(user=reader, email="old@example.com", verified=True)

    with pytest.raises(ApplicationError) as refused:
        trial_start(user=reader)

    assert refused.value.code == "email_unverified"


def test_an_address_that_had_its_trial_is_told_so_before_being_asked_to_verify() -> None:
    first = UserFactory(email="twice@example.com")
    trial_start(user=first)
    first.delete()
    again = UserFactory(email="twice@example.com", email_verified=False)

    with pytest.raises(ApplicationError) as refused:
        trial_start(user=again)

    assert refused.value.code == "trial_already_used"


def test_trial_start_at_a_past_moment_runs_trial_days_from_then(settings) -> None:
    settings.TRIAL_DAYS = 10
    reader = UserFactory()
    at = NOW - timedelta(days=3)

    with time_machine.travel(NOW, tick=False):
        trial = trial_start(user=reader, at=at)

    access = Entitlement.objects.get(user=reader, reference=f"trial:{trial.pk}")
    assert (trial.started_at, trial.ends_at) == (at, at + timedelta(days=10))
    assert (access.starts_at, access.ends_at) == (at, at + timedelta(days=10))
    assert TrialEvent.objects.get(trial=trial, kind=TrialEvent.Kind.STARTED).at == at
