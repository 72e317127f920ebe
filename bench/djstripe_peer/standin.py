"""A read-only Stripe stand-in for the dj-stripe peer: serves from memory the objects the
benchmark's stream refers to, as Stripe has them (a snapshot taken from the sandbox).

    python -m djstripe_peer.standin OBJECTS.json [--port 0]

Prints ``standin listening on http://127.0.0.1:<port>`` first. Routes: ``GET /v1/account``;
``GET /v1/<collection>/<id>`` with ``expand[]`` of top-level fields; ``GET
/v1/<collection>/<id>/<list>`` (an embedded list such as an invoice's ``lines``, else an
empty one); ``GET /v1/<collection>?field=value`` (a list filtered on top-level fields);
``GET /_standin/stats`` (requests served, and the paths it could not serve). HTTP/1.1 with
keep-alive; each answer goes out in one write with Nagle off, or each call stalls ~40 ms.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ACCOUNT = {
    "id": "acct_bench_ingress",
    "object": "account",
    "business_profile": {"name": "Masthead bench", "url": None, "support_email": None},
    "business_type": "company",
    "capabilities": {},
    "charges_enabled": True,
    "country": "GB",
    "created": 1700000000,
    "default_currency": "gbp",
    "details_submitted": True,
    "email": "bench@masthead.localhost",
    "metadata": {},
    "payouts_enabled": True,
    "requirements": {},
    "settings": {
        "branding": {"icon": None, "logo": None, "primary_color": None},
        "dashboard": {"display_name": "Masthead bench", "timezone": "Etc/UTC"},
        "payments": {"statement_descriptor": "MASTHEAD"},
    },
    "tos_acceptance": {},
    "type": "standard",
}

OBJECTS: dict[str, dict[str, Any]] = {}
STATS: dict[str, Any] = {"requests": 0, "misses": {}}
LOCK = threading.Lock()


def _list(items: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": False, "url": url}


def _expanded(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    result = dict(obj)
    for name in fields:
        value = result.get(name.split(".")[0])
        if isinstance(value, str) and value in OBJECTS:
            result[name.split(".")[0]] = OBJECTS[value]
    return result


def answer(path: str, query: list[tuple[str, str]]) -> tuple[int, Any]:
    parts = path.strip("/").split("/")
    expand = [v for k, v in query if k.startswith("expand")]
    if parts == ["v1", "account"]:
        return 200, ACCOUNT
    if len(parts) == 3 and parts[0] == "v1" and parts[2] in OBJECTS:
        return 200, _expanded(OBJECTS[parts[2]], expand)
    if len(parts) == 4 and parts[0] == "v1" and parts[2] in OBJECTS:
        embedded = OBJECTS[parts[2]].get(parts[3])
        if isinstance(embedded, dict) and embedded.get("object") == "list":
            return 200, embedded
        return 200, _list([], path)
    if len(parts) == 2 and parts[0] == "v1":
        kind = parts[1].rstrip("s")
        filters = {k: v for k, v in query if not k.startswith(("expand", "limit", "starting"))}
        found = [
            o
            for o in OBJECTS.values()
            if o.get("object") == kind
            and all(str(_id_of(o.get(k))) == v for k, v in filters.items())
        ]
        return 200, _list(found, path)
    return 404, {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such object: {path}",
        }
    }


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/_standin/stats":
            status, body = 200, STATS
        else:
            status, body = answer(url.path, parse_qsl(url.query))
        with LOCK:
            STATS["requests"] += 1
            if status == 404:
                STATS["misses"][url.path] = STATS["misses"].get(url.path, 0) + 1
        self._send(status, body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with LOCK:
            STATS["requests"] += 1
            STATS["misses"]["POST " + self.path] = STATS["misses"].get("POST " + self.path, 0) + 1
        self._send(400, {"error": {"type": "invalid_request_error", "message": "read-only"}})

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"Request-Id: req_standin\r\nDate: {self.date_time_string(time.time())}\r\n\r\n"
        ).encode()
        self.wfile.write(head + payload)  # one write: headers and body together
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("objects")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with open(args.objects) as handle:
        OBJECTS.update(json.load(handle))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"standin listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
