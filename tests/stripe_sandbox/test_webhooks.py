"""Webhook endpoints, events, signed delivery, retries and chaos."""

from __future__ import annotations

import itertools
import time

import stripe

from .conftest import wait_until


def _endpoint(client, receiver, events=("product.created",)):
    return client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": list(events)}
    )


def test_the_secret_is_returned_only_when_the_endpoint_is_created(client, receiver):
    we = _endpoint(client, receiver)
    assert we.id.startswith("we_") and we.secret.startswith("whsec_")
    assert "secret" not in client.v1.webhook_endpoints.retrieve(we.id)
    listed = client.v1.webhook_endpoints.list(params={"limit": 100})
    assert we.id in {w.id for w in listed.data}
    assert all("secret" not in w for w in listed.data)
    assert client.v1.webhook_endpoints.delete(we.id).deleted is True
    assert we.id not in {w.id for w in client.v1.webhook_endpoints.list().data}


def test_deliveries_are_signed_so_construct_event_accepts_them(client, receiver):
    we = _endpoint(client, receiver)
    try:
        prod = client.v1.products.create(params={"name": "Signed"})
        got = receiver.wait_for(lambda evs: any(e["data"]["object"]["id"] == prod.id for e in evs))
        raw = next(r for r in receiver.received if r.event["data"]["object"]["id"] == prod.id)
        header = raw.headers["Stripe-Signature"]
        assert header.startswith("t=") and ",v1=" in header
        event = stripe.Webhook.construct_event(raw.body, header, we.secret)
        assert event.type == "product.created" and event.data.object.name == "Signed"
        assert event.api_version == stripe.api_version
        try:
            stripe.Webhook.construct_event(raw.body, header, "whsec_wrong")
        except stripe.SignatureVerificationError:
            pass
        else:
            raise AssertionError("a wrong secret must not verify")
        assert got
    finally:
        client.v1.webhook_endpoints.delete(we.id)


def test_only_enabled_event_types_are_delivered(client, receiver):
    we = _endpoint(client, receiver, events=("customer.created",))
    try:
        client.v1.products.create(params={"name": "Not wanted"})
        cus = client.v1.customers.create(params={"email": "wanted@example.com"})
        receiver.wait_for(lambda evs: any(e["data"]["object"]["id"] == cus.id for e in evs))
        assert {e["type"] for e in receiver.events()} == {"customer.created"}
    finally:
        client.v1.webhook_endpoints.delete(we.id)


def test_a_failed_delivery_is_retried_with_back_off_and_the_attempts_are_visible(
    sandbox, client, receiver
):
    receiver.fail_first = 2
    we = _endpoint(client, receiver)
    try:
        prod = client.v1.products.create(params={"name": "Retried"})
        receiver.wait_for(lambda evs: any(e["data"]["object"]["id"] == prod.id for e in evs))
        evt = next(e for e in receiver.events() if e["data"]["object"]["id"] == prod.id)
        rows = wait_until(
            lambda: [d for d in sandbox.deliveries(event=evt["id"]) if d["status"] == "succeeded"]
        )
        attempts = rows[0]["attempts"]
        assert [a["status_code"] for a in attempts] == [500, 500, 200]
        gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(attempts)]
        assert gaps[0] >= 0.2 and gaps[1] >= 0.4  # the configured back-off, 0.2 s then 0.4 s
        assert "retry in 0.2s" in sandbox.log()
        assert wait_until(lambda: client.v1.events.retrieve(evt["id"]).pending_webhooks == 0)
    finally:
        client.v1.webhook_endpoints.delete(we.id)


def test_a_delivery_that_times_out_is_retried(sandbox, client, receiver):
    receiver.slow_first = 1
    we = _endpoint(client, receiver)
    try:
        prod = client.v1.products.create(params={"name": "Slow"})
        receiver.wait_for(lambda evs: any(e["data"]["object"]["id"] == prod.id for e in evs))
        evt = next(e for e in receiver.events() if e["data"]["object"]["id"] == prod.id)
        row = wait_until(
            lambda: [d for d in sandbox.deliveries(event=evt["id"]) if d["status"] == "succeeded"]
        )[0]
        assert row["attempts"][0]["status_code"] is None
        assert "timed out" in row["attempts"][0]["error"]
        assert row["attempts"][-1]["status_code"] == 200
    finally:
        client.v1.webhook_endpoints.delete(we.id)


def test_chaos_delivers_duplicates_and_out_of_order(make_sandbox, receiver):
    sbx = make_sandbox("--chaos", "dup=1,shuffle=1,delay=0.3")
    client = sbx.client()
    we = _endpoint(client, receiver)
    made = [client.v1.products.create(params={"name": f"P{i}"}).id for i in range(12)]
    receiver.wait_for(lambda evs: len(evs) >= 24)
    got = [e["data"]["object"]["id"] for e in receiver.events()]
    assert sorted(got) == sorted(made * 2)  # every event twice, nothing else
    first_seen = list(dict.fromkeys(got))
    assert first_seen != made  # not in the order they happened
    ids = [e["id"] for e in receiver.events()]
    assert len(set(ids)) == 12  # the duplicates carry the same event id
    dups = [d for d in sbx.deliveries(endpoint=we.id) if d["duplicate"]]
    assert len(dups) == 12


def test_events_are_listed_by_type_and_created_and_retrieved(client):
    before = int(time.time()) - 1
    cus = client.v1.customers.create(params={"email": "events@example.com"})
    listed = client.v1.events.list(params={"type": "customer.created", "created": {"gte": before}})
    evt = next(e for e in listed.data if e.data.object.id == cus.id)
    assert evt.id.startswith("evt_") and evt.type == "customer.created"
    assert evt.request.idempotency_key  # the SDK sends one on every POST
    assert client.v1.events.retrieve(evt.id).data.object.email == "events@example.com"
    none = client.v1.events.list(params={"created": {"lt": before - 86400}})
    assert none.data == []


def test_an_endpoint_given_on_the_command_line_receives_everything_with_its_secret(
    make_sandbox, receiver
):
    sbx = make_sandbox("--webhook-endpoint", receiver.url, "--webhook-secret", "whsec_local")
    client = sbx.client()
    [we] = client.v1.webhook_endpoints.list().data
    assert we.url == receiver.url and list(we.enabled_events) == ["*"]
    cus = client.v1.customers.create(params={"email": "cli@example.com"})
    receiver.wait_for(lambda evs: any(e["data"]["object"]["id"] == cus.id for e in evs))
    raw = receiver.received[0]
    event = stripe.Webhook.construct_event(raw.body, raw.headers["Stripe-Signature"], "whsec_local")
    assert event.type == "customer.created"


def test_events_are_kept_30_days(tmp_path):
    from stripe_sandbox.api.events_api import event_list
    from stripe_sandbox.app import Sandbox
    from stripe_sandbox.config import Settings

    sb = Sandbox(Settings(data_dir=tmp_path / "retention"))
    with sb.store.transaction():
        old = sb.emit("customer.created", {"id": "cus_old", "object": "customer"})
        new = sb.emit("customer.created", {"id": "cus_new", "object": "customer"})
        sb.store.conn.execute(
            "UPDATE objects SET real_ts = ? WHERE id = ?", (time.time() - 31 * 86400, old["id"])
        )
        listed = event_list(sb, {})
    assert [e["id"] for e in listed["data"]] == [new["id"]]
