"""Buying credits end to end against the offline Stripe (a real process): the pack pushed
as a one-time price, Checkout in payment mode paid on the hosted page, the webhook adding
the credits once (also when deliveries come twice and shuffled), an unlock, a refund that
removes the unspent credits."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from billing.credit_packs import credit_pack_push
from billing.models import CreditPack, WebhookEvent
from membership.access import article_access
from membership.models import CreditAccount, CreditPurchase
from tests.billing import conftest as billing_fixtures
from tests.billing.delivery import all_delivered, wait_for
from tests.billing.paying import CARD_OK
from tests.factories import ArticleFactory, UserFactory
from tests.stripe_sandbox.conftest import http_request

pytestmark = pytest.mark.django_db(transaction=True)

sandbox_webhooks = billing_fixtures.sandbox_webhooks
sandbox_api = billing_fixtures.sandbox_api
_shared_sandbox = billing_fixtures._shared_sandbox


def client_of(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def pack_on_sale(credits: int = 5, amount: int = 499) -> CreditPack:
    pack = CreditPack.objects.create(
        name=f"{credits} articles", slug=f"pack-{credits}", credits=credits, amount=amount
    )
    return credit_pack_push(pack_id=pack.pk)


def balance(user: Any) -> int:
    account = CreditAccount.objects.filter(user=user).first()
    return account.balance if account else 0


def credits_bought(reader: Any, pack: CreditPack) -> str:
    """Open Checkout for the pack through the API and pay on the hosted page."""
    response = client_of(reader).post(
        "/api/v1/credits/checkout/", {"pack": pack.slug}, format="json"
    )
    assert response.status_code == 201, response.content
    status, _, _ = http_request(response.json()["url"], "POST", form={"card_number": CARD_OK})
    assert status == 303
    return str(response.json()["session_id"])


def test_a_pack_is_a_one_time_price_at_stripe(sandbox_api: Any) -> None:
    pack = pack_on_sale(credits=20, amount=1599)

    price = sandbox_api.client().v1.prices.retrieve(pack.price_id)

    assert (price.type, price.unit_amount, price.currency) == ("one_time", 1599, "gbp")
    listed = client_of(UserFactory()).get("/api/v1/credits/packs/").json()
    assert [(p["slug"], p["credits"]) for p in listed] == [("pack-20", 20)]
    pack.amount = 1799
    pack.save()
    repriced = credit_pack_push(pack_id=pack.pk)
    assert repriced.price_id != price.id
    assert sandbox_api.client().v1.prices.retrieve(price.id).active is False


def test_checkout_for_an_unknown_pack_or_an_anonymous_visitor_is_refused(
    sandbox_api: Any, api_client: Any
) -> None:
    reader = UserFactory()

    unknown = client_of(reader).post("/api/v1/credits/checkout/", {"pack": "nope"}, format="json")
    bad = client_of(reader).post("/api/v1/credits/checkout/", {}, format="json")
    anonymous = api_client.post("/api/v1/credits/checkout/", {"pack": "x"}, format="json")

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_pack")
    assert bad.status_code == 400
    assert anonymous.status_code in (401, 403)


def test_buy_unlock_and_refund_through_the_webhooks(sandbox_webhooks: Any) -> None:
    stripe = sandbox_webhooks.client()
    pack = pack_on_sale(credits=5)
    reader = UserFactory()
    article = ArticleFactory()

    credits_bought(reader, pack)
    wait_for(lambda: balance(reader) == 5, "the credits")
    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery")

    unlocked = client_of(reader).post(f"/api/v1/articles/{article.pk}/unlock/")
    assert unlocked.status_code == 201 and unlocked.json()["credits"] == 4
    assert article_access(reader=reader, article=article).reason == "credit"

    purchase = CreditPurchase.objects.get(user=reader)
    stripe.v1.refunds.create(params={"payment_intent": purchase.payment_ref})
    wait_for(lambda: balance(reader) == 0, "the refund")
    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery")
    assert article_access(reader=reader, article=article).reason == "credit"  # spent: kept
    refused = client_of(reader).post(f"/api/v1/articles/{ArticleFactory().pk}/unlock/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (402, "no_credits")
    assert set(WebhookEvent.objects.values_list("status", flat=True)) <= {"succeeded", "ignored"}


@pytest.mark.sandbox_args("--chaos", "dup=0.5,shuffle=1")
def test_duplicated_and_shuffled_deliveries_add_the_credits_once(sandbox_webhooks: Any) -> None:
    pack = pack_on_sale(credits=5)
    reader = UserFactory()

    for _ in range(2):
        credits_bought(reader, pack)
    wait_for(lambda: balance(reader) == 10, "the credits")
    wait_for(lambda: all_delivered(sandbox_webhooks), "every delivery", timeout=60)

    assert balance(reader) == 10
    assert CreditPurchase.objects.filter(user=reader).count() == 2
    deliveries = sandbox_webhooks.deliveries()
    assert WebhookEvent.objects.count() == len({d["event"] for d in deliveries})
