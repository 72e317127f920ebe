"""Reconciliation: subscriptions changed at Stripe behind Masthead's back are repaired
through the sync service, and the reader's access follows. Each test has a sandbox of its
own, so Stripe's list holds only that test's subscriptions."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django_celery_beat.models import PeriodicTask

from accounts.models import User
from billing import tasks
from billing.models import Subscription, SubscriptionStatus
from billing.plans import plan_push
from billing.reconcile import subscriptions_reconcile
from billing.services import customer_ensure, subscription_sync
from config.celery import app as celery_app
from membership.access import AccessReason, article_access
from stripe_sandbox.testing import RunningSandbox, running_sandbox
from tests.factories import ArticleFactory, PlanFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_sandbox(tmp_path: Path, settings: Any) -> Iterator[RunningSandbox]:
    """A sandbox of this test's own that Masthead's gateway talks to; no webhooks."""
    with running_sandbox(tmp_path / "stripe") as sandbox:
        settings.STRIPE_API_BASE = sandbox.url
        settings.STRIPE_SECRET_KEY = "sk_test_masthead_tests"
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        yield sandbox


class Paying:
    """A reader with a monthly subscription made at Stripe with the 4242 card."""

    def __init__(self, sandbox: RunningSandbox, *, synced: bool = True) -> None:
        self.stripe = sandbox.client()
        self.reader = UserFactory()
        self.article = ArticleFactory()
        prices = plan_push(plan_id=PlanFactory().pk)
        customer = customer_ensure(user=self.reader)
        self.subscription_id = self.stripe.v1.subscriptions.create(
            params={
                "customer": customer.stripe_id,
                "items": [{"price": prices.monthly_price_id}],
                "default_payment_method": "pm_card_visa",
                "metadata": {"user_id": str(self.reader.pk)},
            }
        ).id
        if synced:
            subscription_sync(subscription_id=self.subscription_id)

    def row(self) -> Subscription:
        return Subscription.objects.get(stripe_id=self.subscription_id)

    def reason(self, at: datetime | None = None) -> str:
        reader = User.objects.get(pk=self.reader.pk)
        return article_access(reader=reader, article=self.article, at=at).reason


def test_a_cancellation_at_period_end_made_at_stripe_is_repaired_and_access_ends_then(
    own_sandbox: RunningSandbox,
) -> None:
    paying = Paying(own_sandbox)
    assert paying.reason() == AccessReason.SUBSCRIPTION
    paying.stripe.v1.subscriptions.update(
        paying.subscription_id, params={"cancel_at_period_end": True}
    )

    report = subscriptions_reconcile()

    row = paying.row()
    assert row.cancel_at_period_end and row.cancel_at is not None
    assert row.entitlement is not None and row.entitlement.ends_at == row.cancel_at
    assert paying.reason() == AccessReason.SUBSCRIPTION
    assert paying.reason(at=row.cancel_at) == AccessReason.START_TRIAL  # denied; never trialled
    assert [drift.stripe_id for drift in report.repaired] == [paying.subscription_id]
    assert "cancel_at_period_end: False -> True" in report.repaired[0].changes
    assert any(paying.subscription_id in line for line in report.lines())


def test_a_subscription_cancelled_at_stripe_is_repaired_and_the_reader_loses_access(
    own_sandbox: RunningSandbox,
) -> None:
    paying = Paying(own_sandbox)
    paying.stripe.v1.subscriptions.cancel(paying.subscription_id)

    report = subscriptions_reconcile()

    assert paying.row().status == SubscriptionStatus.CANCELED
    assert paying.reason() == AccessReason.START_TRIAL  # denied; this reader never trialled
    assert report.repaired[0].changes[0] == "status: active -> canceled"
    assert report.repaired[0].user_id == paying.reader.pk


def test_a_live_subscription_masthead_never_heard_of_is_added(
    own_sandbox: RunningSandbox,
) -> None:
    paying = Paying(own_sandbox, synced=False)
    assert paying.reason() == AccessReason.START_TRIAL

    report = subscriptions_reconcile()

    assert report.created == [paying.subscription_id]
    assert paying.row().status == SubscriptionStatus.ACTIVE
    assert paying.reason() == AccessReason.SUBSCRIPTION


def test_a_subscription_in_step_is_left_alone(own_sandbox: RunningSandbox) -> None:
    paying = Paying(own_sandbox)
    synced_at = paying.row().synced_at

    report = subscriptions_reconcile()

    assert report.in_step
    assert report.checked == 1
    assert paying.row().synced_at == synced_at
    assert report.lines() == [
        "1 subscriptions checked at Stripe: 0 repaired, 0 added, 0 missing at Stripe, 0 failed."
    ]


def test_a_row_stripe_no_longer_has_is_named_in_the_report(own_sandbox: RunningSandbox) -> None:
    SubscriptionFactory(stripe_id="sub_lost_at_stripe", customer_stripe_id="cus_lost")

    report = subscriptions_reconcile()

    assert report.missing == ["sub_lost_at_stripe"]
    assert "missing sub_lost_at_stripe: Stripe no longer has it" in report.lines()


def test_the_nightly_task_repairs_and_returns_how_many(
    own_sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    paying = Paying(own_sandbox)
    paying.stripe.v1.subscriptions.cancel(paying.subscription_id)

    repaired = tasks.billing_reconcile.delay().get()

    assert repaired == 1
    assert paying.row().status == SubscriptionStatus.CANCELED
    assert f"repaired {paying.subscription_id}" in caplog.text


def test_beat_runs_the_redrive_every_minute_and_the_reconciliation_nightly() -> None:
    redrive = PeriodicTask.objects.get(task="billing.tasks.webhook_events_redrive")
    nightly = PeriodicTask.objects.get(task="billing.tasks.billing_reconcile")

    assert (redrive.interval.every, redrive.interval.period) == (1, "minutes")
    assert (nightly.crontab.hour, nightly.crontab.minute) == ("3", "30")
    assert {redrive.task, nightly.task} <= set(celery_app.tasks)
