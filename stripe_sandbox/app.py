"""The sandbox's state and the services every resource shares."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any

import stripe

from .config import Settings
from .errors import StripeError, no_such
from .ids import new_id
from .store import Store

API_VERSION: str = stripe.api_version
EVENT_RETENTION_SECONDS = 30 * 86400

# id prefix -> noun used in "No such <noun>" messages
NOUNS = {
    "cus": "customer",
    "prod": "product",
    "price": "price",
    "cs": "checkout.session",
    "sub": "subscription",
    "si": "subscription_item",
    "in": "invoice",
    "pi": "payment_intent",
    "pm": "PaymentMethod",
    "evt": "event",
    "we": "webhook_endpoint",
    "clock": "test_clock",
    "bps": "billing_portal.session",
    "bpc": "billing_portal.configuration",
    "inpay": "invoice_payment",
    "il": "line_item",
    "ch": "charge",
    "re": "refund",
    "promo": "promotion_code",
    "di": "discount",
}


@dataclass
class RequestContext:
    """What events record as ``request``."""

    request_id: str | None = None
    idempotency_key: str | None = None


class Sandbox:
    """Own the store and settings; offer clocks, ids, rendering and event emission."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.data_dir, reset=settings.reset)
        self.request = RequestContext()
        self.wake_deliveries = threading.Event()
        self.wake_clocks = threading.Event()

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    # time -------------------------------------------------------------------------
    def now(self, clock_id: str | None = None) -> int:
        """Return the current time of a test clock, or the real time."""
        if clock_id:
            clock = self.store.get(clock_id)
            if clock and not clock.get("deleted"):
                return int(clock["frozen_time"])
        return int(time.time())

    def now_for(self, obj: dict[str, Any] | None) -> int:
        """Return the time of the clock an object (or its customer) lives on."""
        if obj is None:
            return self.now()
        if obj.get("test_clock"):
            return self.now(obj["test_clock"])
        customer = obj.get("customer")
        if isinstance(customer, str):
            cus = self.store.get(customer)
            if cus and cus.get("test_clock"):
                return self.now(cus["test_clock"])
        return self.now()

    # objects --------------------------------------------------------------------------
    def load(self, obj_id: Any, object_type: str, param: str = "id") -> dict[str, Any]:
        """Return a live object of the given ``object`` type or raise the 404 Stripe answers."""
        if not isinstance(obj_id, str) or not obj_id:
            raise no_such(object_type.split(".")[-1], str(obj_id), param)
        obj = self.store.get(obj_id)
        if obj is None or obj.get("object") != object_type or obj.get("_deleted"):
            raise no_such(object_type.split(".")[-1], obj_id, param)
        return obj

    def save(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self.store.put(obj)

    def new_id(self, prefix: str) -> str:
        return new_id(prefix)

    # rendering ----------------------------------------------------------------------------
    def public(self, value: Any) -> Any:
        """Return a deep copy without the sandbox's private ``_`` keys."""
        if isinstance(value, dict):
            return {k: self.public(v) for k, v in value.items() if not k.startswith("_")}
        if isinstance(value, list):
            return [self.public(v) for v in value]
        return value

    def render(self, obj: Any, expand: list[str] | None = None) -> Any:
        """Return the public form of ``obj`` with ``expand[]`` paths expanded."""
        out = self.public(obj)
        for path in expand or []:
            if not isinstance(path, str):
                raise StripeError("Invalid expand", param="expand")
            self._expand(out, path.split("."), path)
        return out

    def _expand(self, node: Any, parts: list[str], full: str) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head not in node:
            raise StripeError(
                f"This property cannot be expanded ({full}).", param="expand", code=None
            )
        value = node[head]
        if isinstance(value, str):
            target = self.store.get(value)
            if target is None:
                return
            if target.get("_deleted"):
                value = {"id": target["id"], "object": target["object"], "deleted": True}
            else:
                value = self.public(target)
            node[head] = value
        if isinstance(value, list):  # a list of ids (``discounts``) or of objects
            for i, item in enumerate(value):
                target = self.store.get(item) if isinstance(item, str) else None
                if target is not None:
                    value[i] = item = self.public(target)
                self._expand(item, rest, full)
        else:
            self._expand(value, rest, full)

    # events --------------------------------------------------------------------------------
    def emit(
        self,
        type_: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        """Record an event carrying ``obj`` as it is now and queue its webhook deliveries."""
        from . import webhooks

        data: dict[str, Any] = {"object": self.public(copy.deepcopy(obj))}
        if previous is not None:
            data["previous_attributes"] = self.public(previous)
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": created if created is not None else self.now_for(obj),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {
                "id": self.request.request_id,
                "idempotency_key": self.request.idempotency_key,
            },
            "type": type_,
        }
        event["pending_webhooks"] = webhooks.enqueue(self, event)
        self.store.put(event)
        return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return the previous values of the public top-level keys that changed."""
    return {
        k: copy.deepcopy(v)
        for k, v in before.items()
        if not k.startswith("_") and after.get(k) != v
    }
