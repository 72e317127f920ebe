"""Server core: auth, parameters from the SDK's types, errors, idempotency, lists, expand."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import stripe

from .conftest import http_request


def test_a_missing_key_is_refused_with_401_as_stripe_does(sandbox):
    status, _, body = http_request(sandbox.url + "/v1/customers")
    assert status == 401
    assert "did not provide an API key" in json.loads(body)["error"]["message"]


def test_a_key_that_is_not_sk_test_raises_the_sdk_authentication_error(sandbox):
    with pytest.raises(stripe.AuthenticationError):
        sandbox.client("sk_live_nope").v1.customers.list()
    with pytest.raises(stripe.AuthenticationError):
        sandbox.client("rubbish").v1.customers.list()


def test_basic_auth_with_a_test_key_is_accepted(sandbox):
    token = base64.b64encode(b"sk_test_abc:").decode()
    status, _, body = http_request(
        sandbox.url + "/v1/customers", headers={"Authorization": f"Basic {token}"}
    )
    assert status == 200
    assert json.loads(body)["object"] == "list"


def test_an_unknown_parameter_is_refused_naming_it(client):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.create(params={"emial": "x@example.com"})
    err = exc.value
    assert err.http_status == 400
    assert err.code == "parameter_unknown"
    assert err.param == "emial"
    assert err.user_message == "Received unknown parameter: emial"


def test_an_unknown_nested_parameter_is_named_with_its_path(client, catalog):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "line_items": [{"price": catalog["monthly"].id, "quantity": 1, "colour": "red"}],
            }
        )
    assert exc.value.param == "line_items[0][colour]"
    assert exc.value.code == "parameter_unknown"


def test_a_missing_required_parameter_is_named(client):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.test_helpers.test_clocks.create(params={"name": "no time"})
    assert exc.value.code == "parameter_missing"
    assert exc.value.param == "frozen_time"


def test_a_value_of_the_wrong_type_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.list(params={"limit": "many"})  # type: ignore[typeddict-item]
    assert exc.value.code == "parameter_invalid_integer"
    assert exc.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.update("price_x", params={"active": "perhaps"})
    assert exc.value.code == "parameter_invalid_boolean"


def test_an_unknown_id_answers_404_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.retrieve("sub_doesnotexist")
    assert exc.value.http_status == 404
    assert exc.value.code == "resource_missing"
    assert "No such subscription: 'sub_doesnotexist'" in exc.value.user_message


def test_a_declined_card_answers_402_card_error_with_decline_code(client):
    cus = client.v1.customers.create(params={"email": "declined@example.com"})
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": cus.id})
    assert exc.value.http_status == 402
    assert exc.value.code == "card_declined"
    assert exc.value.error.decline_code == "generic_decline"


@pytest.mark.parametrize(
    "raw",
    [
        b"a[b]=1&a=2",
        b"%ff%fe=1",
        b"line_items[0]=x&line_items[0][price]=y",
        b"=",
        b"[]=1",
        b"\xff\xfe\x00",
        b"metadata=" + b"x" * 5000,
    ],
)
def test_malformed_bodies_get_a_stripe_shaped_4xx_never_a_crash(sandbox, raw):
    status, _, body = http_request(
        sandbox.url + "/v1/customers",
        "POST",
        raw=raw,
        headers={
            "Authorization": "Bearer sk_test_x",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert 400 <= status < 500
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_an_unknown_url_answers_404_in_stripe_shape(sandbox):
    status, _, body = http_request(
        sandbox.url + "/v1/nonsense", headers={"Authorization": "Bearer sk_test_x"}
    )
    assert status == 404
    assert "Unrecognized request URL" in json.loads(body)["error"]["message"]


def test_a_repeated_idempotency_key_replays_the_first_answer(client):
    key = str(uuid.uuid4())
    first = client.v1.customers.create(
        params={"email": "idem@example.com"}, options={"idempotency_key": key}
    )
    again = client.v1.customers.create(
        params={"email": "idem@example.com"}, options={"idempotency_key": key}
    )
    assert again.id == first.id
    found = client.v1.customers.list(params={"email": "idem@example.com"})
    assert [c.id for c in found.data] == [first.id]


def test_an_idempotency_key_reused_with_other_params_is_an_idempotency_error(client):
    key = str(uuid.uuid4())
    client.v1.customers.create(
        params={"email": "one@example.com"}, options={"idempotency_key": key}
    )
    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.customers.create(
            params={"email": "two@example.com"}, options={"idempotency_key": key}
        )
    assert exc.value.http_status == 400
    assert exc.value.error.type == "idempotency_error"


def test_lists_page_with_limit_starting_after_and_ending_before(client):
    email = f"{uuid.uuid4().hex}@example.com"
    made = [client.v1.customers.create(params={"email": email}).id for _ in range(5)]
    newest_first = list(reversed(made))
    page1 = client.v1.customers.list(params={"email": email, "limit": 2})
    assert page1.object == "list" and page1.url == "/v1/customers"
    assert [c.id for c in page1.data] == newest_first[:2] and page1.has_more
    page2 = client.v1.customers.list(
        params={"email": email, "limit": 2, "starting_after": page1.data[-1].id}
    )
    assert [c.id for c in page2.data] == newest_first[2:4] and page2.has_more
    page3 = client.v1.customers.list(
        params={"email": email, "limit": 2, "starting_after": page2.data[-1].id}
    )
    assert [c.id for c in page3.data] == newest_first[4:] and not page3.has_more
    back = client.v1.customers.list(
        params={"email": email, "limit": 2, "ending_before": page3.data[0].id}
    )
    assert [c.id for c in back.data] == newest_first[2:4]
    every = client.v1.customers.list(params={"email": email, "limit": 2}).auto_paging_iter()
    assert [c.id for c in every] == newest_first
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.list(params={"limit": 101})
    assert exc.value.param == "limit"


def test_expand_replaces_ids_with_objects_in_lists_and_nested_paths(client, catalog):
    price = client.v1.prices.retrieve(catalog["monthly"].id, params={"expand": ["product"]})
    assert price.product.name == "Masthead Membership"
    page = client.v1.prices.list(
        params={"product": catalog["product"].id, "expand": ["data.product"]}
    )
    assert {p.product.id for p in page.data} == {catalog["product"].id}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.retrieve(catalog["monthly"].id, params={"expand": ["nothing"]})
    assert exc.value.param == "expand"


def test_customers_are_created_updated_listed_by_email_and_deleted(client):
    cus = client.v1.customers.create(
        params={"email": "crud@example.com", "name": "Ada", "metadata": {"user_id": "7"}}
    )
    assert cus.id.startswith("cus_") and cus.metadata["user_id"] == "7"
    cus = client.v1.customers.update(cus.id, params={"name": "Ada L.", "metadata": {"user_id": ""}})
    assert cus.name == "Ada L." and "user_id" not in cus.metadata
    assert client.v1.customers.list(params={"email": "crud@example.com"}).data[0].id == cus.id
    gone = client.v1.customers.delete(cus.id)
    assert gone.deleted is True
    assert client.v1.customers.retrieve(cus.id).deleted is True
    updated = [
        e
        for e in client.v1.events.list(params={"type": "customer.updated"}).data
        if e.data.object.id == cus.id
    ]
    assert updated[0].data.previous_attributes["name"] == "Ada"
    assert updated[0].data.previous_attributes["metadata"].to_dict() == {"user_id": "7"}


def test_every_route_checks_its_params_against_the_sdks_own_typeddict():
    from stripe_sandbox import params, routes

    routes.load_all(background=False)
    assert len(routes.ROUTES) > 40
    for r in routes.ROUTES:
        assert r.schema.kind == "obj", r.params_class
        assert r.schema.fields or r.method == "DELETE", r.params_class
    schema = params.load("SubscriptionUpdateParams")
    assert "cancel_at_period_end" in schema.fields and "expand" in schema.fields
    assert "api_key" not in schema.fields  # request options are not API parameters
