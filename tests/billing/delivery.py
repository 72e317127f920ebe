"""Waiting for the offline Stripe's webhooks to be delivered and applied."""

import time
from collections.abc import Callable
from typing import Any

from billing.models import WebhookEvent


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def all_delivered(sandbox: Any) -> bool:
    """Every delivery the sandbox planned has been answered with 2xx, and applied."""
    deliveries = sandbox.deliveries()
    done = deliveries and all(d["status"] == "succeeded" for d in deliveries)
    idle = not WebhookEvent.objects.filter(status__in=["received", "processing"]).exists()
    return bool(done and idle)
