"""The HTTP front: Apple's and Google's APIs, the sandbox's own control routes, deliveries."""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from .apple import AppleStore, SandboxRefusal
from .google import GooglePlay
from .state import State

log = logging.getLogger("appstore_sandbox")
MAX_BODY = 1_000_000


@dataclass
class Sandbox:
    state: State
    apple: AppleStore
    google: GooglePlay
    apple_notify_url: str

    def deliver(
        self, url: str, body: dict[str, Any], headers: dict[str, str], **record: Any
    ) -> int:
        """POST a notification to Masthead; record and return the HTTP status (0: unreachable)."""
        request = urllib.request.Request(  # noqa: S310 - a configured local address
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            log.warning("Could not deliver to %s: %s", url, exc)
            status = 0
        with self.state.lock:
            self.state.delivery_record(url=url, status=status, **record)
            self.state.save()
        log.info("Delivered %s to %s: %s", record, url, status)
        return status


Route = Callable[["Sandbox", re.Match[str], dict[str, Any], dict[str, str]], tuple[int, Any]]
ROUTES: list[tuple[str, re.Pattern[str], Route]] = []


def route(method: str, pattern: str) -> Callable[[Route], Route]:
    def register(fn: Route) -> Route:
        ROUTES.append((method, re.compile(pattern + "$"), fn))
        return fn

    return register


def _apple_authorised(sb: Sandbox, headers: dict[str, str]) -> None:
    """The App Store Server API wants a JWT naming the app (its signature is Apple's to check)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise SandboxRefusal(401, "Unauthenticated") from exc
    if scheme.lower() != "bearer" or claims.get("bid") != sb.apple.config.bundle_id:
        raise SandboxRefusal(401, "Unauthenticated")


def _flag(body: dict[str, Any], name: str, default: bool = True) -> bool:
    value = body.get(name, default)
    return bool(value) and value not in ("0", "false")


@route("GET", r"/_sandbox/health")
def health(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    return 200, {"ok": True}


@route("GET", r"/_sandbox/deliveries")
def deliveries(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    with sb.state.lock:
        return 200, {"data": list(sb.state.data["deliveries"])}


# Apple ------------------------------------------------------------------------------------
@route("GET", r"/inApps/v1/subscriptions/(?P<tid>[0-9]+)")
def apple_statuses(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    _apple_authorised(sb, headers)
    with sb.state.lock:
        return 200, sb.apple.statuses(m["tid"])


def _apple_notify(
    sb: Sandbox, sub: dict[str, Any], kind: str, subtype: str, body: dict[str, Any]
) -> dict[str, Any]:
    with sb.state.lock:
        signed, notification_uuid = sb.apple.notification(
            sub, kind, subtype, environment=body.get("environment"), bundle_id=body.get("bundle_id")
        )
    answer: dict[str, Any] = {
        "notification_type": kind,
        "subtype": subtype,
        "notification_uuid": notification_uuid,
        "signed_payload": signed,
        "delivery": None,
    }
    if _flag(body, "deliver") and sb.apple_notify_url:
        answer["delivery"] = sb.deliver(
            sb.apple_notify_url,
            {"signedPayload": signed},
            {},
            store="apple",
            type=kind,
            subtype=subtype,
            id=notification_uuid,
        )
    return answer


@route("POST", r"/_sandbox/apple/subscriptions")
def apple_subscribe(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    if not body.get("product_id"):
        raise SandboxRefusal(400, "product_id is required")
    with sb.state.lock:
        sub = sb.apple.subscribe(
            product_id=body["product_id"], app_account_token=body.get("app_account_token")
        )
        sb.state.save()
        signed = sb.apple.signed_transaction(sub, environment=body.get("environment"))
        sub = dict(sub)
    answer = _apple_notify(sb, sub, "SUBSCRIBED", "INITIAL_BUY", body)
    return 201, {
        "original_transaction_id": sub["original_id"],
        "signed_transaction": signed,
        **answer,
    }


@route("GET", r"/_sandbox/apple/subscriptions/(?P<oid>[0-9]+)")
def apple_subscription(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    with sb.state.lock:
        sub = sb.apple.get(m["oid"])
        return 200, {
            **sub,
            "signed_transaction": sb.apple.signed_transaction(
                sub, environment=body.get("environment")
            ),
        }


@route("POST", r"/_sandbox/apple/subscriptions/(?P<oid>[0-9]+)/notify")
def apple_notify(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    with sb.state.lock:
        sub = dict(sb.apple.get(m["oid"]))
    return 200, _apple_notify(sb, sub, body.get("type", "TEST"), body.get("subtype", ""), body)


@route("POST", r"/_sandbox/apple/subscriptions/(?P<oid>[0-9]+)/(?P<action>[a-z_]+)")
def apple_act(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    with sb.state.lock:
        kind, subtype = sb.apple.act(m["oid"], m["action"], product_id=body.get("product_id", ""))
        sb.state.save()
        sub = dict(sb.apple.get(m["oid"]))
    return 200, _apple_notify(sb, sub, kind, subtype, body)


# Google -----------------------------------------------------------------------------------
_PKG = r"/androidpublisher/v3/applications/(?P<pkg>[A-Za-z0-9_.]+)/purchases"


def _package(sb: Sandbox, m: re.Match[str]) -> None:
    if m["pkg"] != sb.google.config.package_name:
        raise SandboxRefusal(404, "The package is not known.")


@route("GET", _PKG + r"/subscriptionsv2/tokens/(?P<token>[A-Za-z0-9._\-]+)")
def google_get(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    _package(sb, m)
    with sb.state.lock:
        return 200, sb.google.resource(m["token"])


@route(
    "POST",
    _PKG + r"/subscriptions/(?P<sub>[A-Za-z0-9._]+)/tokens/(?P<token>[A-Za-z0-9._\-]+):acknowledge",
)
def google_ack(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    _package(sb, m)
    with sb.state.lock:
        sb.google.acknowledge(m["sub"], m["token"])
        sb.state.save()
    return 200, {}


@route("GET", r"/_sandbox/google/certs")
def google_certs(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    return 200, sb.google.signer.certs()


def _google_notify(sb: Sandbox, token: str, kind: int, body: dict[str, Any]) -> dict[str, Any]:
    with sb.state.lock:
        push, message_id = sb.google.push_body(token, kind)
        sb.state.save()
    oidc = sb.google.push_token(audience=body.get("audience"))
    answer: dict[str, Any] = {
        "notification_type": kind,
        "message_id": message_id,
        "push": push,
        "authorization": f"Bearer {oidc}",
        "delivery": None,
    }
    if _flag(body, "deliver") and sb.google.config.push_url:
        answer["delivery"] = sb.deliver(
            sb.google.config.push_url,
            push,
            {"Authorization": f"Bearer {oidc}"},
            store="google",
            type=kind,
            id=message_id,
        )
    return answer


@route("POST", r"/_sandbox/google/purchases")
def google_purchase(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    if not body.get("product_id"):
        raise SandboxRefusal(400, "product_id is required")
    with sb.state.lock:
        p = sb.google.purchase(
            product_id=body["product_id"],
            account_id=body.get("account_id", ""),
            linked_purchase_token=body.get("linked_purchase_token", ""),
        )
        sb.state.save()
    return 201, {"purchase_token": p["token"], **_google_notify(sb, p["token"], 4, body)}


@route("GET", r"/_sandbox/google/purchases/(?P<token>[A-Za-z0-9._\-]+)")
def google_purchase_get(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    with sb.state.lock:
        return 200, dict(sb.google.get(m["token"]))


@route("POST", r"/_sandbox/google/purchases/(?P<token>[A-Za-z0-9._\-]+)/notify")
def google_notify(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    with sb.state.lock:
        sb.google.get(m["token"])
    return 200, _google_notify(sb, m["token"], int(body.get("type", 2)), body)


@route("POST", r"/_sandbox/google/purchases/(?P<token>[A-Za-z0-9._\-]+)/(?P<action>[a-z_]+)")
def google_act(
    sb: Sandbox, m: re.Match[str], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    with sb.state.lock:
        kind = sb.google.act(m["token"], m["action"])
        sb.state.save()
    return 200, _google_notify(sb, m["token"], kind, body)


def make_handler(sb: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), format % args)

        def _answer(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
                if not isinstance(body, dict):
                    raise ValueError("a JSON object is expected")
            except ValueError:
                self._answer(400, {"errorCode": 4000000, "errorMessage": "Bad JSON body"})
                return
            body.update({k: v[-1] for k, v in parse_qs(parts.query).items()})
            headers = {k.lower(): v for k, v in self.headers.items()}
            for route_method, pattern, fn in ROUTES:
                match = pattern.match(parts.path)
                if route_method == method and match:
                    try:
                        status, payload = fn(sb, match, body, headers)
                    except SandboxRefusal as exc:
                        status, payload = (
                            exc.status,
                            {"errorCode": exc.status * 10000, "errorMessage": exc.message},
                        )
                    self._answer(status, payload)
                    return
            self._answer(
                404, {"errorCode": 4040000, "errorMessage": f"No route {method} {parts.path}"}
            )

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

    return Handler


def make_server(sb: Sandbox, host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(sb))
    server.daemon_threads = True
    return server
