"""Signed webhook delivery with retries, back-off and optional chaos."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Sandbox

log = logging.getLogger("stripe_sandbox.webhooks")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """Return the ``Stripe-Signature`` header value Stripe would send."""
    signed = f"{timestamp}.".encode() + payload
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _wants(endpoint: dict[str, Any], event_type: str) -> bool:
    if endpoint.get("status") != "enabled" or endpoint.get("_deleted"):
        return False
    enabled = endpoint.get("enabled_events") or []
    return "*" in enabled or event_type in enabled


def enqueue(sb: Sandbox, event: dict[str, Any]) -> int:
    """Queue one delivery per interested endpoint; return how many endpoints there are."""
    chaos = sb.settings.chaos
    now = time.time()
    count = 0
    for endpoint in sb.store.all("webhook_endpoint"):
        if not _wants(endpoint, event["type"]):
            continue
        count += 1
        copies = 2 if chaos.dup and random.random() < chaos.dup else 1
        for n in range(copies):
            delay = random.uniform(0, chaos.delay) if chaos.delay else 0.0
            sb.store.conn.execute(
                "INSERT INTO deliveries (event_id, endpoint_id, status, next_attempt_at, "
                "duplicate) VALUES (?, ?, 'pending', ?, ?)",
                (event["id"], endpoint["id"], now + delay, int(n > 0)),
            )
    if count:
        sb.wake_deliveries.set()
    return count


def deliveries(
    sb: Sandbox,
    event_id: str | None = None,
    endpoint_id: str | None = None,
) -> list[dict[str, Any]]:
    """Return delivery rows (newest first) with their attempts."""
    sql = (
        "SELECT id, event_id, endpoint_id, status, next_attempt_at, attempts, duplicate "
        "FROM deliveries WHERE 1=1"
    )
    args: list[Any] = []
    if event_id:
        sql += " AND event_id = ?"
        args.append(event_id)
    if endpoint_id:
        sql += " AND endpoint_id = ?"
        args.append(endpoint_id)
    with sb.store.lock:
        rows = sb.store.conn.execute(sql + " ORDER BY id DESC", args).fetchall()
    out = []
    for r in rows:
        out.append(
            {
                "id": r[0],
                "event": r[1],
                "endpoint": r[2],
                "status": r[3],
                "next_attempt_at": r[4] if r[3] == "pending" else None,
                "attempts": json.loads(r[5]),
                "duplicate": bool(r[6]),
            }
        )
    return out


class Deliverer:
    """Background sender: picks due deliveries, posts them signed, reschedules failures."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook")
        self.thread = threading.Thread(target=self._run, name="deliverer", daemon=True)

    def start(self) -> None:
        with self.sb.store.transaction():
            # Deliveries caught mid-send by a shutdown are sent again.
            self.sb.store.conn.execute(
                "UPDATE deliveries SET status = 'pending' WHERE status = 'sending'"
            )
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.sb.wake_deliveries.set()
        self.thread.join(timeout=5)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._tick()
            except Exception:  # pragma: no cover - keep the sender alive
                log.exception("webhook sender failed")
            self.sb.wake_deliveries.wait(0.05)
            self.sb.wake_deliveries.clear()

    def _tick(self) -> None:
        store = self.sb.store
        with store.transaction():
            rows = store.conn.execute(
                "SELECT id, endpoint_id FROM deliveries WHERE status = 'pending' "
                "AND next_attempt_at <= ? ORDER BY id LIMIT 200",
                (time.time(),),
            ).fetchall()
            for r in rows:
                store.conn.execute("UPDATE deliveries SET status = 'sending' WHERE id = ?", (r[0],))
        if not rows:
            return
        by_endpoint: dict[str, list[int]] = {}
        for delivery_id, endpoint_id in rows:
            by_endpoint.setdefault(endpoint_id, []).append(delivery_id)
        for ids in by_endpoint.values():
            if self.sb.settings.chaos.shuffle:
                random.shuffle(ids)
            self.pool.submit(self._send_all, ids)

    def _send_all(self, ids: list[int]) -> None:
        for delivery_id in ids:
            try:
                self._send(delivery_id)
            except Exception:  # pragma: no cover
                log.exception("delivery %s failed", delivery_id)

    def _send(self, delivery_id: int) -> None:
        sb, store = self.sb, self.sb.store
        with store.lock:
            row = store.conn.execute(
                "SELECT event_id, endpoint_id, attempts FROM deliveries WHERE id = ?",
                (delivery_id,),
            ).fetchone()
            event = store.get(row[0])
            endpoint = store.get(row[1])
        attempts = json.loads(row[2])
        if event is None or endpoint is None or endpoint.get("_deleted"):
            with store.transaction():
                store.conn.execute(
                    "UPDATE deliveries SET status = 'abandoned' WHERE id = ?", (delivery_id,)
                )
            return
        payload = json.dumps(sb.public(event), indent=2).encode()
        started = time.time()
        header = sign(payload, endpoint["_secret"], int(started))
        request = urllib.request.Request(  # noqa: S310 - the endpoint's own URL
            endpoint["url"],
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        status: int | None = None
        error = None
        try:
            with urllib.request.urlopen(request, timeout=sb.settings.webhook_timeout) as resp:  # noqa: S310
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        attempts.append(
            {
                "attempt": len(attempts) + 1,
                "at": round(started, 3),
                "status_code": status,
                "error": error,
                "duration_ms": round((time.time() - started) * 1000, 1),
            }
        )
        schedule = sb.settings.webhook_retry_schedule
        retry_in = (
            schedule[len(attempts) - 1] if not ok and len(attempts) <= len(schedule) else None
        )
        new_status = "succeeded" if ok else ("pending" if retry_in is not None else "failed")
        with store.transaction():
            store.conn.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ? WHERE id = ?",
                (new_status, json.dumps(attempts), started + (retry_in or 0), delivery_id),
            )
            if new_status != "pending":
                fresh = store.get(event["id"])
                if fresh is not None and fresh["pending_webhooks"] > 0:
                    fresh["pending_webhooks"] -= 1
                    store.put(fresh)
        if not sb.settings.quiet:
            log.info(
                "webhook %s %s -> %s: %s (attempt %d%s)",
                event["id"],
                event["type"],
                endpoint["url"],
                status if status is not None else error,
                len(attempts),
                f", retry in {retry_in}s" if retry_in is not None else "",
            )
        if retry_in is not None:
            sb.wake_deliveries.set()
