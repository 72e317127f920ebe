"""Test clocks: create, retrieve, list, delete, and asynchronous advances."""

from __future__ import annotations

import logging
import threading
from typing import Any

from .. import lifecycle, one_time
from ..app import Sandbox
from ..errors import StripeError, invalid
from ..objects import core
from ..routes import route
from .common import live, paginate

log = logging.getLogger("stripe_sandbox.clocks")
MAX_STEPS = 10_000


def clock_subscriptions(sb: Sandbox, clock_id: str) -> list[dict[str, Any]]:
    return [
        s
        for s in live(sb, "subscription")
        if s["test_clock"] == clock_id and s["status"] not in lifecycle.ENDED
    ]


@route("POST", "/v1/test_helpers/test_clocks", "test_helpers.TestClockCreateParams")
def clock_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    clock = core.test_clock(now=sb.now(), frozen_time=p["frozen_time"], name=p.get("name"))
    sb.save(clock)
    return clock


@route("GET", "/v1/test_helpers/test_clocks/{id}", "test_helpers.TestClockRetrieveParams")
def clock_retrieve(sb: Sandbox, p: dict[str, Any], clock_id: str) -> dict[str, Any]:
    return sb.load(clock_id, "test_helpers.test_clock")


@route("GET", "/v1/test_helpers/test_clocks", "test_helpers.TestClockListParams")
def clock_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    return paginate(live(sb, "test_helpers.test_clock"), p, "/v1/test_helpers/test_clocks")


@route("DELETE", "/v1/test_helpers/test_clocks/{id}", "test_helpers.TestClockDeleteParams")
def clock_delete(sb: Sandbox, p: dict[str, Any], clock_id: str) -> dict[str, Any]:
    clock = sb.load(clock_id, "test_helpers.test_clock")
    for sub in clock_subscriptions(sb, clock_id):
        lifecycle.cancel_now(sb, sub, reason="cancellation_requested")
    for cus in live(sb, "customer"):
        if cus["test_clock"] == clock_id:
            cus["_deleted"] = True
            sb.save(cus)
            sb.emit("customer.deleted", cus)
    clock["_deleted"] = True
    sb.save(clock)
    return core.deleted(clock)


@route("POST", "/v1/test_helpers/test_clocks/{id}/advance", "test_helpers.TestClockAdvanceParams")
def clock_advance(sb: Sandbox, p: dict[str, Any], clock_id: str) -> dict[str, Any]:
    clock = sb.load(clock_id, "test_helpers.test_clock")
    if clock["status"] != "ready":
        raise StripeError(
            "The test clock is currently advancing; wait until it is ready.", param="frozen_time"
        )
    target = p["frozen_time"]
    current = clock["frozen_time"]
    if target <= current:
        raise invalid(
            "frozen_time",
            "The frozen_time must be after the test clock's current frozen_time.",
            "parameter_invalid_integer",
        )
    limits = []
    for sub in clock_subscriptions(sb, clock_id):
        interval, count = min(lifecycle.item_interval(it) for it in sub["items"]["data"])
        limits.append(lifecycle.add_interval(current, interval, 2 * count))
    if limits and target > min(limits):
        raise invalid(
            "frozen_time",
            "Cannot advance the test clock more than two intervals "
            "of the shortest subscription on it "
            f"(at most to {min(limits)}).",
            None,
        )
    clock["status"] = "advancing"
    clock["status_details"] = {"advancing": {"target_frozen_time": target}}
    sb.save(clock)
    sb.emit("test_helpers.test_clock.advancing", clock, created=current)
    sb.wake_clocks.set()
    return clock


def advance(sb: Sandbox, clock_id: str) -> None:
    """Run everything due on a clock's subscriptions, in order, up to its target time."""
    clock = sb.load(clock_id, "test_helpers.test_clock")
    target = clock["status_details"]["advancing"]["target_frozen_time"]
    for _ in range(MAX_STEPS):
        due = []
        for sub in clock_subscriptions(sb, clock_id):
            for at, order, step, inv in lifecycle.due_steps(sb, sub):
                if at <= target:
                    due.append((at, order, sub["created"], sub["id"], step, inv))
        if not due:
            break
        at, _, _, sub_id, step, inv = min(due)
        clock = sb.load(clock_id, "test_helpers.test_clock")
        clock["frozen_time"] = max(clock["frozen_time"], at)
        sb.save(clock)
        lifecycle.run_step(sb, sb.load(sub_id, "subscription"), step, inv, clock["frozen_time"])
    clock = sb.load(clock_id, "test_helpers.test_clock")
    clock["frozen_time"] = target
    clock["status"] = "ready"
    clock["status_details"] = {}
    sb.save(clock)
    sb.emit("test_helpers.test_clock.ready", clock, created=target)


class ClockRunner:
    """Background thread finishing ``advancing`` clocks, as Stripe does asynchronously."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="clocks", daemon=True)

    def start(self) -> None:
        self.thread.start()
        self.sb.wake_clocks.set()  # finish advances interrupted by a restart

    def close(self) -> None:
        self.stop.set()
        self.sb.wake_clocks.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.sb.wake_clocks.wait(1.0)
            self.sb.wake_clocks.clear()
            if self.stop.is_set():
                return
            try:
                with self.sb.store.transaction():
                    one_time.settle_due(self.sb)
            except Exception:
                log.exception("settling bank debits failed")
            with self.sb.store.lock:
                pending = [
                    c["id"]
                    for c in live(self.sb, "test_helpers.test_clock")
                    if c["status"] == "advancing"
                ]
            for clock_id in pending:
                try:
                    with self.sb.store.transaction():
                        advance(self.sb, clock_id)
                except Exception:
                    log.exception("advancing %s failed", clock_id)
                    with self.sb.store.transaction():
                        clock = self.sb.load(clock_id, "test_helpers.test_clock")
                        clock["status"] = "internal_failure"
                        self.sb.save(clock)
