"""Post a stream of Stripe events to a webhook URL with concurrent senders (a process of
its own, so the load generator does not share the server's interpreter).

    python bench/_ingress_sender.py STREAM.json URL SECRET [--senders 4]

STREAM.json is a JSON list of event bodies (strings). Each body is signed when it is sent,
as Stripe does: ``Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of "t.body">``. Each sender
is a thread with its own ``http.client`` connection, kept alive when the server allows it
(gunicorn's sync workers close it after every answer, so it is reopened). Prints one JSON
object: wall seconds, the Unix time the senders began, status counts, per-request latencies
(ms), connections opened.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit


def signature(body: bytes, secret: str) -> str:
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stream")
    parser.add_argument("url")
    parser.add_argument("secret")
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()
    with open(args.stream) as handle:
        bodies = [body.encode() for body in json.load(handle)]
    url = urlsplit(args.url)
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    latencies: list[float] = [0.0] * len(bodies)
    statuses: list[int] = [0] * len(bodies)
    opened = [0]
    errors: list[str] = []
    start = threading.Barrier(args.senders + 1)

    def sender() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        start.wait()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            body = bodies[index]
            headers = {
                "Content-Type": "application/json",
                "Stripe-Signature": signature(body, args.secret),
            }
            began = time.perf_counter()
            for attempt in range(3):  # a connection the server closed meanwhile is reopened
                try:
                    if conn.sock is None:
                        opened[0] += 1
                    conn.request("POST", url.path, body, headers)
                    answer = conn.getresponse()
                    answer.read()
                    break
                except (http.client.HTTPException, OSError) as exc:
                    conn.close()
                    if attempt == 2:
                        errors.append(f"{type(exc).__name__}: {exc}")
                        answer = None
            latencies[index] = (time.perf_counter() - began) * 1000
            statuses[index] = answer.status if answer is not None else 0
            if answer is not None and answer.will_close:
                conn.close()
        conn.close()

    threads = [threading.Thread(target=sender) for _ in range(args.senders)]
    for thread in threads:
        thread.start()
    start.wait()
    began_at, began = time.time(), time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    json.dump(
        {
            "wall": wall,
            "began_at": began_at,
            "statuses": counts,
            "latencies_ms": latencies,
            "connections": opened[0],
            "errors": errors[:10],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
