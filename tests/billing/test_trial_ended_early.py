"""A trial that Stripe ends early (``trial_end=now``, or the reader pays while in a trial) is
closed in Masthead at that moment: the paywall, the account page and /me/ agree."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.services import subscription_sync
from membership.models import Entitlement, Trial, TrialEvent, TrialKind, TrialStatus
from membership.services import trial_claim, trial_end_early
from tests.billing.paying import plan_on_sale, reader_with_trial, subscribe
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def card_trial(subscription) -> Trial:  # type: ignore[no-untyped-def]
    """Spend the reader's trial on the subscription's, as a Checkout with a trial does."""
    return trial_claim(
        user=subscription.user,
        kind=TrialKind.CARD,
        starts_at=timezone.now(),
        ends_at=subscription.trial_end,
    )


def test_trial_end_now_at_stripe_closes_the_card_trial_at_that_moment(
    sandbox_api, reader, reader_client
):
    subscription = subscribe(sandbox_api.client(), reader, plan_on_sale(), trial_days=14)
    trial = card_trial(subscription)
    assert reader_client.get("/api/v1/me/").json()["trial"]["days_left"] == 14

    stripe_side = sandbox_api.client().v1.subscriptions.update(
        subscription.stripe_id, params={"trial_end": "now"}
    )
    synced = subscription_sync(subscription_id=subscription.stripe_id)
    me = reader_client.get("/api/v1/me/").json()
    account = reader_client.get("/account/").content.decode()

    assert stripe_side.status == "active" and synced.status == "active"
    trial.refresh_from_db()
    assert trial.status == TrialStatus.ENDED
    assert trial.ended_at == synced.trial_end
    assert trial.ended_at.timestamp() == stripe_side.trial_end
    # Stripe counts whole seconds: the trial may have begun within trial_end's second.
    assert trial.ends_at == max(trial.started_at, synced.trial_end) <= timezone.now()
    assert me["trial"]["status"] == "ended" and me["trial"]["days_left"] == 0
    assert me["trial_eligibility"] == "used"
    assert "Your free trial is running" not in account
    event = TrialEvent.objects.filter(trial=trial, kind=TrialEvent.Kind.ENDED).get()
    assert event.data["ended_early"] is True


def test_paying_during_a_cardless_trial_closes_it_when_the_subscription_began(
    sandbox_api, reader_client
):
    reader = reader_with_trial(started_days_ago=13.5)  # under 48 hours left: pays at once
    reader_client.force_login(reader)
    trial = Trial.objects.get(user=reader)

    subscription = subscribe(sandbox_api.client(), reader, plan_on_sale())
    data = reader_client.get("/api/v1/me/").json()

    assert subscription.status == "active"
    trial.refresh_from_db()
    began = subscription.data["start_date"]
    assert trial.status == TrialStatus.ENDED and trial.ends_at.timestamp() == began
    trial_access = Entitlement.objects.get(user=reader, source="trial")
    assert trial_access.ends_at == trial.ends_at
    assert [e["source"] for e in data["entitlements"]] == ["subscription"]
    assert data["trial"]["status"] == "ended"


def test_a_card_trial_under_a_cardless_one_ended_early_closes_the_cardless_trial(
    sandbox_api, reader_client
):
    reader = reader_with_trial(started_days_ago=2)
    trial = Trial.objects.get(user=reader)
    subscription = subscribe(
        sandbox_api.client(), reader, plan_on_sale(), trial_days=12
    )  # as Checkout gives a card trial to the cardless trial's end
    trial.refresh_from_db()
    assert trial.status == TrialStatus.ACTIVE, "a trialing subscription leaves the trial be"

    sandbox_api.client().v1.subscriptions.update(
        subscription.stripe_id, params={"trial_end": "now"}
    )
    synced = subscription_sync(subscription_id=subscription.stripe_id)

    trial.refresh_from_db()
    assert trial.status == TrialStatus.ENDED and trial.ends_at == synced.trial_end
    assert not Entitlement.objects.live().filter(user=reader, source="trial").exists()


def test_a_subscription_cancelled_during_its_trial_closes_the_card_trial(sandbox_api, reader):
    subscription = subscribe(sandbox_api.client(), reader, plan_on_sale(), trial_days=14)
    trial = card_trial(subscription)

    sandbox_api.client().v1.subscriptions.cancel(subscription.stripe_id)
    synced = subscription_sync(subscription_id=subscription.stripe_id)

    trial.refresh_from_db()
    assert synced.status == "canceled"
    assert trial.status == TrialStatus.ENDED and trial.ends_at <= timezone.now()


def test_a_trial_that_ran_out_on_time_is_left_to_the_sweep(db):
    reader = UserFactory()
    now = timezone.now()
    trial = trial_claim(
        user=reader, kind=TrialKind.CARD, starts_at=now - timedelta(days=14), ends_at=now
    )

    assert trial_end_early(user=reader, at=now) is None
    assert trial_end_early(user=reader, at=now - timedelta(days=15)) is None, "not begun then"
    trial.refresh_from_db()
    assert trial.status == TrialStatus.ACTIVE and trial.ends_at == now
