"""The HTTP front: auth, params, idempotency, routing, errors and one log line a request."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import forms, hosted_pages, params, routes, webhooks
from .app import API_VERSION, Sandbox
from .config import Faults
from .errors import StripeError
from .ids import new_id

log = logging.getLogger("stripe_sandbox")

AUTH_MISSING = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)
MAX_BODY = 1_000_000


def api_key(header: str | None) -> str | None:
    """Return the key of a Bearer or Basic ``Authorization`` header."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode().split(":", 1)[0]
        except Exception:
            return ""
    return ""


def check_key(header: str | None) -> None:
    key = api_key(header)
    if key is None:
        raise StripeError(AUTH_MISSING, status=401)
    if not key.startswith("sk_test_") or len(key) <= len("sk_test_"):
        shown = (key[:8] + "*" * max(0, len(key) - 12) + key[-4:]) if len(key) > 12 else key
        raise StripeError(f"Invalid API Key provided: {shown}", status=401)


class FaultInjector:
    """Draw the ``--faults`` of each API request and count what was injected."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.random = random.Random(faults.seed)
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "500": 0, "timeout": 0}

    def draw(self) -> str | None:
        with self.lock:
            self.counts["requests"] += 1
            if not (self.faults.error or self.faults.timeout):
                return None
            roll = self.random.random()
            fault = None
            if roll < self.faults.error:
                fault = "500"
            elif roll < self.faults.error + self.faults.timeout:
                fault = "timeout"
            if fault:
                self.counts[fault] += 1
            return fault

    def report(self) -> dict[str, Any]:
        with self.lock:
            return {**self.counts, "stall": self.faults.stall}


class Handler(BaseHTTPRequestHandler):
    server_version = "stripe-sandbox"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    sb: Sandbox
    faults: FaultInjector

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # one line per request is written by _log instead

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            raise StripeError("Request body too large", status=413)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        started = time.perf_counter()
        request_id = new_id("req", 14)
        url = urlsplit(self.path)
        status, headers, body = 500, dict[str, str](), b""
        fault = self.faults.draw() if url.path.startswith("/v1/") else None
        try:
            raw = self._read_body()
            if fault == "500":
                status, headers, body = self._error(
                    StripeError("An unknown error occurred", status=500, type="api_error"),
                    request_id,
                )
                headers["Stripe-Should-Retry"] = "true"
            elif url.path.startswith("/v1/"):
                status, headers, body = self._api(method, url.path, url.query, raw, request_id)
            elif url.path == "/_sandbox/faults":
                status, headers = 200, {"Content-Type": "application/json"}
                body = json.dumps(self.faults.report()).encode()
            else:
                status, headers, body = hosted_pages.dispatch(
                    self.sb, method, url.path, url.query, raw
                )
        except StripeError as exc:
            status, headers, body = self._error(exc, request_id)
        except Exception:
            log.exception("internal error on %s %s", method, self.path)
            internal = StripeError(
                "An internal error occurred in the sandbox.", status=500, type="api_error"
            )
            status, headers, body = self._error(internal, request_id)
        if fault:
            log.info("fault injected: %s on %s %s %s", fault, method, url.path, request_id)
        if fault == "timeout":  # done and stored; the answer comes after the client gave up
            time.sleep(self.faults.faults.stall)
        try:
            self._send(status, headers, body)
        except OSError:
            if fault != "timeout":
                raise
            self.close_connection = True
            return
        if not self.sb.settings.quiet:
            log.info(
                "%s %s %d %.1fms %s%s",
                method,
                self.path,
                status,
                (time.perf_counter() - started) * 1000,
                request_id,
                f" idem={self.headers.get('Idempotency-Key')}"
                if self.headers.get("Idempotency-Key")
                else "",
            )

    def _error(self, exc: StripeError, request_id: str) -> tuple[int, dict[str, str], bytes]:
        body = exc.body()
        return (
            exc.status,
            {
                "Content-Type": "application/json",
                "Request-Id": request_id,
                "Stripe-Should-Retry": "false",
            },
            json.dumps(body, indent=2).encode(),
        )

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        reason = self.responses.get(status, ("",))[0]
        lines = [
            f"HTTP/1.1 {status} {reason}",
            "Server: stripe-sandbox",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + body)
        self.wfile.flush()

    def _api(
        self,
        method: str,
        path: str,
        query: str,
        raw: bytes,
        request_id: str,
    ) -> tuple[int, dict[str, str], bytes]:
        check_key(self.headers.get("Authorization"))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StripeError("Request body is not valid UTF-8") from exc
        p = forms.decode(query)
        if method == "POST" and text:
            body_params = forms.decode(text)
            p.update(body_params)
        r, ids, _exists = routes.match(method, path)
        if r is None:
            raise StripeError(
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                status=404,
            )
        checked = params.check_object(r.schema, p)
        idem_key = self.headers.get("Idempotency-Key") if method in ("POST", "DELETE") else None
        headers = {
            "Content-Type": "application/json",
            "Request-Id": request_id,
            "Stripe-Version": self.headers.get("Stripe-Version") or API_VERSION,
        }
        store = self.sb.store
        fingerprint = hashlib.sha256(
            json.dumps([method, path, p], sort_keys=True).encode()
        ).hexdigest()
        with store.lock:
            if idem_key:
                headers["Idempotency-Key"] = idem_key
                seen = store.idem_get(idem_key)
                if seen is not None:
                    if seen[0] != fingerprint:
                        raise StripeError(
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{idem_key}' if you meant to execute a different request.",
                            type="idempotency_error",
                        )
                    headers["Idempotent-Replayed"] = "true"
                    return seen[1], headers, seen[2].encode()
            self.sb.request.request_id = request_id
            self.sb.request.idempotency_key = idem_key
            error: StripeError | None = None
            try:
                with store.transaction():
                    try:
                        result = routes.call(self.sb, r, checked, ids)
                        out = self.sb.render(result, checked.get("expand"))
                    except StripeError as exc:
                        if not exc.commit:
                            raise
                        error = exc
            finally:
                self.sb.request.request_id = None
                self.sb.request.idempotency_key = None
            if error is not None:
                status, err_headers, body = self._error(error, request_id)
                headers.update(err_headers)
            else:
                status, body = 200, json.dumps(out, indent=2).encode()
            if idem_key and status in (200, 402):
                with store.transaction():
                    store.idem_put(idem_key, fingerprint, status, body.decode())
        return status, headers, body


def make_server(sb: Sandbox) -> ThreadingHTTPServer:
    """Return a bound (not yet serving) server for the sandbox."""
    routes.load_all()
    faults = FaultInjector(sb.settings.faults)
    handler = type("BoundHandler", (Handler,), {"sb": sb, "faults": faults})
    server = ThreadingHTTPServer((sb.settings.host, sb.settings.port), handler)
    server.daemon_threads = True
    if sb.settings.port == 0 and not sb.settings.public_url:
        sb.settings.port = server.server_address[1]
    return server


__all__ = ["make_server", "webhooks"]
