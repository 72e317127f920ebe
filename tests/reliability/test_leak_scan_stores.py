"""Leak scan for readers who subscribe in an app store: the same crawl as
``test_leak_scan`` (every page, every API operation, every link), for Apple and Google
subscribers whose store subscription was refunded, expired or is on hold (the marker appears
0 times) and for store subscribers who may read (it appears on every premium article's page
and API answer and nowhere else). Their subscriptions are made in the app-store sandbox
process and applied through Masthead's real doors."""

from typing import Any

import pytest

from appstores.models import StoreProduct
from membership.services.app_accounts import app_account_token_get
from tests.appstores import conftest as store_fixtures
from tests.appstores.conftest import Stores
from tests.factories import UserFactory
from tests.reliability.readers import Catalogue, catalogue_make, session_token
from tests.reliability.test_leak_scan import _must_have_crawled, crawl

# The app-store sandbox process, Masthead aimed at it (autouse), and the stores' helper.
store_sandbox = store_fixtures.store_sandbox
_stores_at_the_sandbox = store_fixtures._stores_at_the_sandbox
stores = store_fixtures.stores

# Store access alone: the monthly meter (its own leak test is in test_leak_scan.py) is off.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meter_off")]

PRODUCT = "masthead.everything.monthly"


@pytest.fixture
def world(db: Any) -> Catalogue:
    catalogue = catalogue_make()
    for store in ("apple", "google"):
        StoreProduct.objects.create(store=store, product_id=PRODUCT, plan=catalogue.plans[0])
    return catalogue


def _store_reader(stores: Stores, store: str, action: str | None) -> Any:
    """A reader who bought ``PRODUCT`` in ``store``; then ``action`` happened to it."""
    reader = UserFactory()
    token = app_account_token_get(user=reader)
    if store == "apple":
        bought = stores.apple_buy(token, product=PRODUCT)
        assert stores.apple_deliver(bought).status_code == 200
        if action:
            stores.apple_deliver(stores.apple_act(bought["original_transaction_id"], action))
    else:
        bought = stores.google_buy(token, product=PRODUCT)
        assert stores.google_deliver(bought).status_code == 200
        if action:
            stores.google_deliver(stores.google_act(bought["purchase_token"], action))
    return reader


@pytest.mark.parametrize(
    "store, action",
    [("apple", "refund"), ("apple", "expire"), ("apple", "fail"), ("google", "refund"),
     ("google", "fail"), ("google", "expire")],
)  # fmt: skip
def test_no_premium_body_reaches_a_store_reader_without_access(
    world, stores, client, store, action
):
    reader = _store_reader(stores, store, action)
    client.force_login(reader)

    result = crawl(client, world, session_token(reader))

    _must_have_crawled(result, world)
    assert result.leaks() == {}
    assert store not in result.reasons
    print(f"{store} {action}: {len(result.markers)} addresses, reasons {dict(result.reasons)}")


@pytest.mark.parametrize(
    "store, action", [("apple", None), ("apple", "grace"), ("google", "grace")]
)
def test_the_scan_bites_a_store_reader_with_access_reads_premium_answers_only(
    world, stores, client, store, action
):
    reader = _store_reader(stores, store, action)
    client.force_login(reader)

    result = crawl(client, world, session_token(reader))

    _must_have_crawled(result, world)
    expected = {f"/articles/{a.pk}/" for a in world.premium}
    expected |= {f"/api/v1/articles/{a.pk}/" for a in world.premium}
    assert set(result.leaks()) == expected
    assert result.reasons == {store: len(world.premium), "free_article": len(world.open)}
