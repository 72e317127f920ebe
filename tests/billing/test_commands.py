"""The billing commands: push plans, replay stored events, reconcile with Stripe."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError

from billing.models import Customer, PlanPrices, SyncStatus, WebhookEvent
from stripe_sandbox.testing import RunningSandbox
from tests.billing import test_reconcile
from tests.billing.test_reconcile import Paying
from tests.factories import CustomerFactory, PlanFactory, WebhookEventFactory

own_sandbox = test_reconcile.own_sandbox  # a sandbox per test: Stripe's list is this test's

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> tuple[str, str]:
    """Run a command; return what it printed on stdout and on stderr."""
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def progress_bar(capsys: pytest.CaptureFixture[str]) -> str:
    """What tqdm drew on the process's stderr."""
    return capsys.readouterr().err


def help_text(name: str) -> str:
    return load_command_class("billing", name).create_parser("manage.py", name).format_help()


@pytest.mark.parametrize(
    ("name", "option"),
    [
        ("billing_push_plans", "--plan SLUG"),
        ("billing_replay_events", "--status {failed,received,processing}"),
        ("billing_reconcile", "--no-progress"),
    ],
)
def test_each_command_explains_itself(name: str, option: str) -> None:
    assert option in help_text(name)


def test_push_plans_pushes_the_plan_named_and_prints_its_ids(sandbox_api: Any) -> None:
    chosen, other = PlanFactory(slug="weekend"), PlanFactory()

    out, _ = run("billing_push_plans", "--plan", "weekend", "--no-progress")

    record = PlanPrices.objects.get(plan=chosen)
    assert f"weekend: synced, product {record.product_id}" in out
    assert record.monthly_price_id in out
    assert "1 plan(s) in step with Stripe." in out
    assert not PlanPrices.objects.filter(plan=other).exists()


def test_push_plans_pushes_every_plan_and_draws_a_progress_bar(
    sandbox_api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    PlanFactory.create_batch(2)

    out, _ = run("billing_push_plans")

    assert "2 plan(s) in step with Stripe." in out
    assert "Plans: 100%" in progress_bar(capsys)
    assert set(PlanPrices.objects.values_list("status", flat=True)) == {SyncStatus.SYNCED}


def test_push_plans_reports_a_refused_plan_and_still_pushes_the_others(sandbox_api: Any) -> None:
    refused, fine = PlanFactory(display_order=1), PlanFactory(display_order=2)
    PlanPrices.objects.create(plan=refused, product_id="prod_deleted_at_stripe")

    with pytest.raises(CommandError, match="1 plan"):
        run("billing_push_plans", "--no-progress")

    assert PlanPrices.objects.get(plan=refused).status == SyncStatus.FAILED
    assert PlanPrices.objects.get(plan=fine).status == SyncStatus.SYNCED


def test_push_plans_refuses_an_unknown_slug() -> None:
    with pytest.raises(CommandError, match="No plan with slug 'nope'"):
        run("billing_push_plans", "--plan", "nope")


def failed_event(stripe_id: str, customer_id: str) -> WebhookEvent:
    return WebhookEventFactory(
        stripe_id=stripe_id,
        type="customer.deleted",
        object_id=customer_id,
        status="failed",
        attempts=9,
        last_error="ConnectionError: Stripe unreachable",
    )


def test_replay_events_applies_the_failed_ones_again(capsys: pytest.CaptureFixture[str]) -> None:
    CustomerFactory(stripe_id="cus_gone")
    event = failed_event("evt_failed", "cus_gone")

    out, _ = run("billing_replay_events")

    assert "Replayed 1 event(s): 1 succeeded." in out
    assert "Events: 100%" in progress_bar(capsys)
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("succeeded", 10)
    assert not Customer.objects.filter(stripe_id="cus_gone").exists()


def test_replay_events_picks_by_type_and_by_id() -> None:
    first, second = failed_event("evt_one", "cus_one"), failed_event("evt_two", "cus_two")

    assert run("billing_replay_events", "--type", "invoice.paid")[0] == (
        "No stored events to replay.\n"
    )
    out, _ = run("billing_replay_events", "--id", "evt_two", "--no-progress")

    assert "Replayed 1 event(s): 1 succeeded." in out
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("failed", "succeeded")


def test_replay_events_reports_an_event_that_fails_again(sandbox_api: Any) -> None:
    WebhookEventFactory(stripe_id="evt_bad", object_id="sub_none", status="failed")

    out, _ = run("billing_replay_events", "--no-progress")

    assert "Replayed 1 event(s): 1 failed." in out
    assert "no such object" in WebhookEvent.objects.get().last_error.lower()


def test_reconcile_prints_what_it_repaired(
    own_sandbox: RunningSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    paying = Paying(own_sandbox)
    paying.stripe.v1.subscriptions.cancel(paying.subscription_id)
    capsys.readouterr()

    out, _ = run("billing_reconcile")

    assert (
        f"repaired {paying.subscription_id} (user {paying.reader.pk}): "
        "status: active -> canceled" in out
    )
    assert "1 subscriptions checked at Stripe: 1 repaired, 0 added" in out
    assert "Subscriptions: 1" in progress_bar(capsys)
    assert paying.row().status == "canceled"


def test_reconcile_says_when_all_is_in_step(own_sandbox: RunningSandbox) -> None:
    Paying(own_sandbox)

    out, _ = run("billing_reconcile", "--no-progress")

    assert out == (
        "1 subscriptions checked at Stripe: 0 repaired, 0 added, 0 missing at Stripe, 0 failed.\n"
    )


def test_push_plans_waits_for_stripe_and_gives_up_with_a_clear_error(settings) -> None:  # type: ignore[no-untyped-def]
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    with pytest.raises(CommandError, match=r"Stripe did not answer within 0\.5 s"):
        call_command("billing_push_plans", "--wait-for-stripe", "0.5", "--no-progress")
