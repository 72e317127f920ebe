"""Fixtures: a real sandbox process, SDK clients, a webhook receiver and small helpers."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from stripe_sandbox.testing import RunningSandbox, running_sandbox

FAST_ARGS = ["--webhook-retry-schedule", "0.2,0.4", "--webhook-timeout", "1"]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One sandbox process shared by the session (fresh data dir)."""
    with running_sandbox(tmp_path_factory.mktemp("sandbox") / "data", args=FAST_ARGS) as sbx:
        yield sbx


@pytest.fixture
def client(sandbox: RunningSandbox) -> Any:
    return sandbox.client()


@pytest.fixture
def make_sandbox(tmp_path) -> Iterator[Callable[..., RunningSandbox]]:
    """Start extra sandboxes with their own options; stopped after the test."""
    stack: list[Any] = []

    def make(*args: str) -> RunningSandbox:
        cm = running_sandbox(tmp_path / f"data{len(stack)}", args=[*FAST_ARGS, *args])
        sbx = cm.__enter__()
        stack.append(cm)
        return sbx

    yield make
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture
def catalog(client: Any) -> dict[str, Any]:
    """A product with a monthly and a yearly price."""
    prod = client.v1.products.create(params={"name": "Masthead Membership"})
    monthly = client.v1.prices.create(
        params={
            "product": prod.id,
            "unit_amount": 900,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    yearly = client.v1.prices.create(
        params={
            "product": prod.id,
            "unit_amount": 9000,
            "currency": "usd",
            "recurring": {"interval": "year"},
        }
    )
    premium = client.v1.prices.create(
        params={
            "product": prod.id,
            "unit_amount": 1500,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    return {"product": prod, "monthly": monthly, "yearly": yearly, "premium": premium}


# webhooks ------------------------------------------------------------------------------------
@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP endpoint that records what the sandbox posts to it."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    fail_first: int = 0  # answer 500 to this many requests first
    slow_first: int = 0  # sleep past the sandbox's timeout on this many requests first
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.event for r in self.received]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        return wait_until(lambda: predicate(self.events()) and self.events(), timeout)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with rec.lock:
                rec.calls += 1
                n = rec.calls
            if n <= rec.slow_first:
                time.sleep(1.5)
            elif n <= rec.slow_first + rec.fail_first:
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            else:
                with rec.lock:
                    rec.received.append(Received(dict(self.headers.items()), body))
            try:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    yield rec
    server.shutdown()
    server.server_close()


# helpers ---------------------------------------------------------------------------------------
def wait_until(fn: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``fn`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def advance(client: Any, clock_id: str, to: int) -> Any:
    """Advance a test clock and wait until it is ready again."""
    clock = client.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": to})
    assert clock.status in ("advancing", "ready")
    return wait_until(
        lambda: (
            (c := client.v1.test_helpers.test_clocks.retrieve(clock_id)).status == "ready" and c
        ),
        timeout=30,
    )


def http_request(
    url: str,
    method: str = "GET",
    form: dict[str, str] | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    """Send one request without following redirects; return status, headers and body."""
    from urllib.parse import urlencode

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = raw if raw is not None else (urlencode(form).encode() if form is not None else None)
    hdrs = dict(headers or {})
    if form is not None:
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
    conn.close()
    return out


def events_for(client: Any, object_id: str, since: int = 0) -> list[Any]:
    """Return the events (oldest first) whose object is, or belongs to, ``object_id``."""
    # Pages are read as raw JSON and only the matching events become SDK objects: building
    # StripeObjects for every event of the session would dominate the suite's run time.
    out, cursor = [], None
    while True:
        params = {"limit": 100, **({"starting_after": cursor} if cursor else {})}
        page = json.loads(client.raw_request("get", "/v1/events", **params).body)
        for evt in page["data"]:
            obj = evt["data"]["object"]
            ids = {obj.get("id"), obj.get("customer"), obj.get("subscription")}
            if object_id in ids and evt["created"] >= since:
                out.append(client.construct_event_without_verification(json.dumps(evt)))
        if not page["has_more"]:
            return list(reversed(out))
        cursor = page["data"][-1]["id"]
