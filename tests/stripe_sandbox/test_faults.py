"""``--faults``: the sandbox answers a share of API requests with Stripe's 500 or stalls past the
client's timeout, so clients' retries and idempotency keys can be tested."""

import argparse
import http.client
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import stripe

from stripe_sandbox.config import Faults
from stripe_sandbox.testing import API_KEY, RunningSandbox, running_sandbox

AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/x-www-form-urlencoded"}


def post(sandbox: RunningSandbox, path: str, body: str, *, key: str, timeout: float = 5) -> Any:
    port = int(sandbox.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={**AUTH, "Idempotency-Key": key})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_fault_options_are_read_and_checked() -> None:
    faults = Faults.parse("500=0.3,timeout=0.2,stall=1.5,seed=7")
    assert (faults.error, faults.timeout, faults.stall, faults.seed) == (0.3, 0.2, 1.5, 7)
    assert Faults.parse("") == Faults()
    for bad in ("500=0.7,timeout=0.4", "timeout=-1", "boom=1", "500=lots"):
        with pytest.raises(argparse.ArgumentTypeError):
            Faults.parse(bad)


def test_a_500_fault_answers_stripes_api_error_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_sandbox(data, args=["--faults", "500=1"]) as sandbox:
        status, headers, body = post(sandbox, "/v1/customers", "email=a%40example.com", key="k1")
        assert status == 500
        assert json.loads(body)["error"]["type"] == "api_error"
        assert headers["stripe-should-retry"] == "true"
        assert sandbox.get_json("/_sandbox/faults") == {
            "requests": 1, "500": 1, "timeout": 0, "stall": 30.0
        }  # fmt: skip
        assert "fault injected: 500 on POST /v1/customers" in sandbox.log()

    with running_sandbox(data) as sandbox:
        assert sandbox.client().v1.customers.list().data == []
        status, headers, _ = post(sandbox, "/v1/customers", "email=a%40example.com", key="k1")
        assert status == 200 and "idempotent-replayed" not in headers  # nothing was stored


def test_a_timeout_fault_does_the_request_then_holds_the_answer_past_the_timeout(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with running_sandbox(data, args=["--faults", "timeout=1,stall=2"]) as sandbox:
        with pytest.raises(socket.timeout):
            post(sandbox, "/v1/customers", "email=b%40example.com", key="k2", timeout=0.5)
        assert sandbox.get_json("/_sandbox/faults")["timeout"] == 1

    with running_sandbox(data) as sandbox:
        (customer,) = sandbox.client().v1.customers.list().data
        status, headers, body = post(sandbox, "/v1/customers", "email=b%40example.com", key="k2")
        assert status == 200 and headers["idempotent-replayed"] == "true"
        assert json.loads(body)["id"] == customer.id


def test_the_sdk_retries_through_faults_with_its_key_and_makes_each_customer_once(
    tmp_path: Path,
) -> None:
    args = ["--faults", "500=0.3,timeout=0.2,stall=1.5,seed=11"]
    with running_sandbox(tmp_path / "data", args=args) as sandbox:
        client = stripe.StripeClient(
            API_KEY,
            base_addresses={"api": sandbox.url},
            max_network_retries=10,
            http_client=stripe.new_default_http_client(timeout=0.5),
        )
        emails = [f"reader{n}@example.com" for n in range(8)]
        made = [
            client.v1.customers.create(params={"email": email}, options={"idempotency_key": email})
            for email in emails
        ]
        listed = client.v1.customers.list(params={"limit": 100}).data
        faults = sandbox.get_json("/_sandbox/faults")

    assert sorted(c.email for c in listed) == emails
    assert {c.id for c in listed} == {c.id for c in made}
    assert faults["500"] > 0 and faults["timeout"] > 0
    assert faults["requests"] == len(emails) + 1 + faults["500"] + faults["timeout"]
