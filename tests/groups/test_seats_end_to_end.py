"""A family plan bought through Checkout with an adjustable quantity, seats changed in the
Customer Portal, the subscription ended: each arrives by webhook from the offline Stripe
(a real process) and the group's seats and members' access follow, once."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from billing.models import Subscription, WebhookEvent
from groups.models import Group
from membership.access import article_access
from membership.models import SeatKind
from tests.billing import conftest as billing_fixtures
from tests.billing.delivery import all_delivered, wait_for
from tests.billing.paying import CARD_OK, plan_on_sale
from tests.factories import ArticleFactory, UserFactory
from tests.groups.conftest import invitation_token
from tests.stripe_sandbox.conftest import http_request

pytestmark = pytest.mark.django_db(transaction=True)

# The billing tests' sandboxes: one of this test's own delivering webhooks, one shared.
sandbox_webhooks = billing_fixtures.sandbox_webhooks
sandbox_api = billing_fixtures.sandbox_api
_shared_sandbox = billing_fixtures._shared_sandbox

MEMBERS = "/api/v1/groups/mine/members/"


def client_of(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def seats_of(owner: Any) -> int:
    group = Group.objects.filter(owner=owner).first()
    return group.seats if group else -1


def family_bought(sandbox: Any, *, asked: int, chosen: int) -> tuple[Any, Any, str]:
    """A family plan on sale; its buyer opens Checkout for ``asked`` seats and pays for
    ``chosen`` on the hosted page. Returns the plan, the owner, the subscription's id."""
    plan = plan_on_sale(seat_kind=SeatKind.FAMILY, min_seats=2, max_seats=6, trial_days=0)
    owner = UserFactory()
    response = client_of(owner).post(
        "/api/v1/billing/checkout/",
        {"plan": plan.slug, "interval": "month", "quantity": asked},
        format="json",
    )
    assert response.status_code == 201, response.content
    url = response.json()["url"]
    status, _, page = http_request(url)
    assert status == 200 and "name='quantity_0'" in page and "max='6'" in page
    status, _, _ = http_request(
        url, "POST", form={"card_number": CARD_OK, "quantity_0": str(chosen)}
    )
    assert status == 303
    wait_for(lambda: seats_of(owner) == chosen, "the group's seats")
    wait_for(lambda: all_delivered(sandbox), "every delivery")
    sub_id = Subscription.objects.get(user=owner).stripe_id
    return plan, owner, sub_id


def portal_quantity(owner: Any, sub_id: str, quantity: int) -> str:
    """Change the seats on the Customer Portal page; return the page's message."""
    response = client_of(owner).post("/api/v1/billing/portal/", {}, format="json")
    assert response.status_code == 201, response.content
    url = response.json()["url"]
    form = {"action": "quantity", "subscription": sub_id, "quantity": str(quantity)}
    status, headers, _ = http_request(url, "POST", form=form)
    assert status == 303
    status, _, page = http_request(headers["location"])
    return page


def test_a_family_bought_by_seat_shared_resized_and_ended(sandbox_webhooks: Any) -> None:
    stripe = sandbox_webhooks.client()
    _, owner, sub_id = family_bought(sandbox_webhooks, asked=3, chosen=4)
    assert stripe.v1.subscriptions.retrieve(sub_id)["items"].data[0].quantity == 4
    article = ArticleFactory()

    # The owner invites three readers; one accepts after signing up.
    for n in range(3):
        response = client_of(owner).post(MEMBERS, {"email": f"kin{n}@example.com"}, format="json")
        assert response.status_code == 201
    kin = UserFactory(email="kin0@example.com")
    accepted = client_of(kin).post(
        "/api/v1/groups/accept/", {"token": invitation_token(kin.email)}, format="json"
    )
    assert accepted.status_code == 200
    assert article_access(reader=kin, article=article).reason == "group"

    # Outside the plan's bounds the portal refuses; within them the seats follow by webhook.
    assert "Choose between 2 and 6" in portal_quantity(owner, sub_id, 7)
    portal_quantity(owner, sub_id, 2)
    wait_for(lambda: seats_of(owner) == 2, "the new quantity")
    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery")
    mine = client_of(owner).get("/api/v1/groups/mine/").json()
    assert mine["needs_member_removal"] is True and mine["seats_taken"] == 3
    assert article_access(reader=kin, article=article).reason == "group"

    # The subscription ends at Stripe: the member's access ends with the owner's.
    stripe.v1.subscriptions.cancel(sub_id)
    wait_for(lambda: seats_of(owner) == 0, "the end")
    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery")
    assert article_access(reader=kin, article=article).granted is False
    assert article_access(reader=owner, article=article).granted is False
    assert set(WebhookEvent.objects.values_list("status", flat=True)) <= {"succeeded", "ignored"}


def test_checkout_refuses_seats_outside_the_plans_bounds(sandbox_api: Any) -> None:
    plan = plan_on_sale(seat_kind=SeatKind.FAMILY, min_seats=2, max_seats=6)
    single = plan_on_sale()
    owner = UserFactory()

    too_many = client_of(owner).post(
        "/api/v1/billing/checkout/",
        {"plan": plan.slug, "interval": "month", "quantity": 7},
        format="json",
    )
    not_by_seat = client_of(owner).post(
        "/api/v1/billing/checkout/",
        {"plan": single.slug, "interval": "month", "quantity": 3},
        format="json",
    )

    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "invalid_quantity"
    assert not_by_seat.json()["error"]["code"] == "invalid_quantity"


@pytest.mark.sandbox_args("--chaos", "dup=0.3,shuffle=1")
def test_duplicated_and_shuffled_deliveries_apply_the_seats_once(sandbox_webhooks: Any) -> None:
    _, owner, sub_id = family_bought(sandbox_webhooks, asked=2, chosen=5)
    portal_quantity(owner, sub_id, 3)
    wait_for(lambda: seats_of(owner) == 3, "the new quantity")
    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery", timeout=60)

    deliveries = sandbox_webhooks.deliveries()
    assert WebhookEvent.objects.count() == len({d["event"] for d in deliveries})
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}
    assert Group.objects.filter(owner=owner).count() == 1
    assert owner.entitlements.filter(superseded_at__isnull=True).count() == 1
