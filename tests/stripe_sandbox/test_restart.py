"""State lives in SQLite in the data dir: it survives a restart; --reset clears it."""

from __future__ import annotations

import uuid

import pytest
import stripe

from stripe_sandbox.testing import restart, running_sandbox


def test_state_survives_a_restart_and_reset_clears_it(tmp_path, receiver):
    data = tmp_path / "state"
    with running_sandbox(data) as sbx:
        client = sbx.client()
        prod = client.v1.products.create(params={"name": "Kept"})
        price = client.v1.prices.create(
            params={
                "product": prod.id,
                "unit_amount": 700,
                "currency": "usd",
                "recurring": {"interval": "month"},
            }
        )
        cus = client.v1.customers.create(params={"email": "kept@example.com"})
        sub = client.v1.subscriptions.create(
            params={
                "customer": cus.id,
                "items": [{"price": price.id}],
                "default_payment_method": "pm_card_visa",
            }
        )
        key = str(uuid.uuid4())
        made = client.v1.customers.create(
            params={"email": "idem@example.com"}, options={"idempotency_key": key}
        )
        we = client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"]}
        )
        sbx = restart(sbx)
        client = sbx.client()
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"
        assert client.v1.customers.retrieve(cus.id).email == "kept@example.com"
        assert client.v1.prices.retrieve(price.id).unit_amount == 700
        again = client.v1.customers.create(
            params={"email": "idem@example.com"}, options={"idempotency_key": key}
        )
        assert again.id == made.id  # idempotency keys are kept too
        # the endpoint and its secret still work after the restart
        new = client.v1.customers.create(params={"email": "after@example.com"})
        got = receiver.wait_for(lambda evs: any(e["data"]["object"]["id"] == new.id for e in evs))
        assert got
        raw = next(r for r in receiver.received if r.event["data"]["object"]["id"] == new.id)
        stripe.Webhook.construct_event(raw.body, raw.headers["Stripe-Signature"], we.secret)
        assert "GET /v1/subscriptions/" + sub.id in sbx.log()  # one log line per request
        sbx.process.terminate()
        sbx.process.wait(5)
    with (
        running_sandbox(data, args=["--reset"]) as fresh,
        pytest.raises(stripe.InvalidRequestError),
    ):
        fresh.client().v1.customers.retrieve(cus.id)
