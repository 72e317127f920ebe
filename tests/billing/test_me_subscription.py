"""The ``subscription`` of GET /api/v1/me/: plan, period, status, renewal or end, and a
failing payment with the way to fix it; subscriptions made at the sandbox and mirrored."""

import json
from datetime import UTC, datetime

import pytest

from billing import stripe_gateway
from billing.services import subscription_sync
from tests.billing.paying import clock_create, plan_on_sale, subscribe
from tests.stripe_sandbox.conftest import advance, http_request

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
DAY = 86400


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def test_a_reader_who_never_subscribed_has_no_subscription(reader_client):
    assert reader_client.get(ME).json()["subscription"] is None


def test_an_active_subscription_shows_plan_period_and_renewal(
    sandbox_api, reader, reader_client, django_assert_max_num_queries
):
    plan = plan_on_sale(slug="everything", name="Everything")
    subscription = subscribe(sandbox_api.client(), reader, plan)

    # Three of them make the reader's app account token, on the first /me/ only.
    with django_assert_max_num_queries(10):
        data = reader_client.get(ME).json()

    assert data["subscription"] == {
        "store": "stripe",
        "manage_url": "/api/v1/billing/portal/",
        "access_until": None,
        "plan": {"slug": "everything", "name": "Everything"},
        "interval": "month",
        "status": "active",
        "trial_end": None,
        "renews_at": iso(subscription.current_period_end),
        "ends_at": None,
        "payment_problem": None,
        "discount": None,
    }
    assert [e["source"] for e in data["entitlements"]] == ["subscription"]


def test_a_card_trial_renews_when_the_trial_ends(sandbox_api, reader, reader_client):
    plan = plan_on_sale()
    subscription = subscribe(sandbox_api.client(), reader, plan, trial_days=14)

    data = reader_client.get(ME).json()["subscription"]

    assert data["status"] == "trialing"
    assert data["trial_end"] == iso(subscription.trial_end)
    assert data["renews_at"] == iso(subscription.trial_end)


def test_a_subscription_cancelled_in_the_portal_shows_when_it_ends_and_no_renewal(
    sandbox_api, reader, reader_client
):
    subscription = subscribe(sandbox_api.client(), reader, plan_on_sale())
    portal = stripe_gateway.portal_session_create(
        customer_id=subscription.customer_stripe_id, return_url="http://testserver/account/"
    )
    form = {"action": "cancel", "subscription": subscription.stripe_id}
    assert http_request(portal.url, "POST", form=form)[0] == 303

    ending = subscription_sync(subscription_id=subscription.stripe_id)
    data = reader_client.get(ME).json()["subscription"]

    assert ending.cancel_at is not None and ending.cancel_at_period_end is False
    assert data["status"] == "active"
    assert data["renews_at"] is None
    assert data["ends_at"] == iso(ending.cancel_at) == iso(ending.current_period_end)


def _past_due(sandbox_api, reader, card: str):  # type: ignore[no-untyped-def]
    """A card trial of one day on a test clock whose first charge fails on ``card``."""
    client = sandbox_api.client()
    clock, start = clock_create(client)
    subscription = subscribe(client, reader, plan_on_sale(), card=card, clock=clock, trial_days=1)
    advance(client, clock, start + DAY + 60)
    return subscription_sync(subscription_id=subscription.stripe_id)


def test_a_failed_payment_shows_since_when_and_the_portal_to_fix_it(
    sandbox_api, reader, reader_client, django_assert_max_num_queries
):
    past_due = _past_due(sandbox_api, reader, "pm_card_chargeCustomerFail")

    # Three of them make the reader's app account token, on the first /me/ only.
    with django_assert_max_num_queries(11):
        data = reader_client.get(ME).json()["subscription"]

    assert past_due.status == "past_due"
    assert data["status"] == "past_due"
    assert data["payment_problem"] == {
        "since": iso(past_due.payment_failed_at),
        "needs_authentication": False,
        "fix_url": "/api/v1/billing/portal/",
        "fix_method": "POST",
    }
    assert past_due.payment_failed_at == datetime.fromtimestamp(
        int(past_due.trial_end.timestamp()), tz=UTC
    )


def test_a_payment_waiting_for_the_bank_sends_the_reader_to_the_invoice_page(
    sandbox_api, reader, reader_client, webhook
):
    past_due = _past_due(sandbox_api, reader, "pm_card_authenticationRequired")
    events = sandbox_api.client().v1.events.list(
        params={"type": "invoice.payment_action_required", "limit": 100}
    )
    event = next(e for e in events.data if e.data.object.id == past_due.open_invoice_id)
    auth = {"Authorization": "Bearer sk_test_masthead_tests"}
    raw = http_request(f"{sandbox_api.url}/v1/events/{event.id}", headers=auth)[2]
    assert webhook.post(json.loads(raw)).status_code == 200

    data = reader_client.get(ME).json()["subscription"]

    assert data["payment_problem"]["needs_authentication"] is True
    assert data["payment_problem"]["fix_url"] == past_due.hosted_invoice_url
    assert data["payment_problem"]["fix_method"] == "GET"
