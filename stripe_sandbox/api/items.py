"""Changing a subscription's items: price and quantity switches and their prorations."""

from __future__ import annotations

from typing import Any

from .. import invoicing, lifecycle
from ..app import Sandbox
from ..errors import invalid, missing, no_such
from ..objects import billing, core
from .common import merge_metadata


def load_price(sb: Sandbox, price_id: Any, param: str, *, recurring: bool = True) -> dict[str, Any]:
    """Return an active price (a recurring one unless ``recurring`` is False)."""
    if not price_id:
        raise missing(param)
    price = sb.load(price_id, "price", param)
    if recurring and price["type"] != "recurring":
        raise invalid(
            param,
            "The price specified is set to `type=one_time` but this field "
            "only accepts prices with `type=recurring`.",
        )
    if not price["active"]:
        raise invalid(
            param, "The price specified is inactive. This subscription cannot be created."
        )
    return price


def switch_items(
    sb: Sandbox, sub: dict[str, Any], specs: list[dict[str, Any]], proration_behavior: str, now: int
) -> dict[str, Any] | None:
    """Apply ``items[]`` changes; return an invoice to collect now, if one was made."""
    by_id = {it["id"]: it for it in sub["items"]["data"]}
    old = {it["id"]: (it["price"], it["quantity"]) for it in sub["items"]["data"]}
    for i, spec in enumerate(specs):
        if spec.get("id"):
            item = by_id.get(spec["id"])
            if item is None:
                raise no_such("subscription_item", spec["id"], f"items[{i}][id]")
            if spec.get("deleted"):
                sub["items"]["data"].remove(item)
                continue
            if spec.get("price"):
                price = load_price(sb, spec["price"], f"items[{i}][price]")
                item["price"], item["plan"] = price, core.plan(price)
            if "quantity" in spec:
                item["quantity"] = spec["quantity"]
            item["metadata"] = merge_metadata(item["metadata"], spec.get("metadata"))
        else:
            price = load_price(sb, spec.get("price"), f"items[{i}][price]")
            if any(it["price"]["id"] == price["id"] for it in sub["items"]["data"]):
                raise invalid(
                    f"items[{i}][price]",
                    "Cannot add multiple subscription items with the same price.",
                )
            start, end = lifecycle.period(sub)
            sub["items"]["data"].append(
                billing.subscription_item(
                    now=now,
                    sub_id=sub["id"],
                    price=price,
                    quantity=spec.get("quantity", 1),
                    period_start=start,
                    period_end=end,
                )
            )
    if not sub["items"]["data"]:
        raise invalid("items", "A subscription must have at least one active plan.")
    sub["items"]["total_count"] = len(sub["items"]["data"])
    if sub["status"] not in ("active", "past_due"):
        return None
    start, end = lifecycle.period(sub)
    frac = max(0.0, (end - now) / (end - start)) if end > start else 0.0
    lines: list[dict[str, Any]] = []
    interval_changed = False
    for item in sub["items"]["data"]:
        before_price, before_qty = old.get(item["id"], (None, 0))
        if before_price is not None and (before_price["id"], before_qty) == (
            item["price"]["id"],
            item["quantity"],
        ):
            continue
        if before_price is not None and lifecycle.item_interval(item) != (
            before_price["recurring"]["interval"],
            before_price["recurring"]["interval_count"],
        ):
            interval_changed = True
        if before_price is not None:
            lines.append(
                {
                    "item": item,
                    "amount": -round(before_price["unit_amount"] * before_qty * frac),
                    "description": f"Unused time on {before_qty} {invoicing.TIMES} "
                    f"{invoicing.product_name(sb, before_price)} after "
                    f"{invoicing.day(now)}",
                    "start": now,
                    "end": end,
                    "proration": True,
                    "quantity": before_qty,
                }
            )
        lines.append(
            {
                "item": item,
                "amount": round(item["price"]["unit_amount"] * item["quantity"] * frac),
                "description": f"Remaining time on {item['quantity']} {invoicing.TIMES} "
                f"{invoicing.product_name(sb, item['price'])} after "
                f"{invoicing.day(now)}",
                "start": now,
                "end": end,
                "proration": True,
            }
        )
    if interval_changed:
        # A new interval restarts the billing cycle now and is invoiced at once.
        interval, count = min(lifecycle.item_interval(it) for it in sub["items"]["data"])
        new_end = lifecycle.add_interval(now, interval, count)
        sub["billing_cycle_anchor"] = now
        lifecycle.set_period(sub, now, new_end)
        credit = [ln for ln in lines if ln["amount"] < 0] if proration_behavior != "none" else []
        full = [lifecycle._line(sb, it, now, new_end) for it in sub["items"]["data"]]
        return _invoice_now(sb, sub, credit + full, now, now, new_end)
    if proration_behavior == "none" or not lines:
        return None
    if proration_behavior == "always_invoice":
        return _invoice_now(sb, sub, lines, now, now, end)
    pending = sub["_x"].setdefault("pending_prorations", [])
    for ln in lines:
        pending.append(
            {
                "item_id": ln["item"]["id"],
                "amount": ln["amount"],
                "description": ln["description"],
                "start": ln["start"],
                "end": ln["end"],
                "quantity": ln.get("quantity", ln["item"]["quantity"]),
            }
        )
    return None


def _invoice_now(
    sb: Sandbox, sub: dict[str, Any], lines: list[dict[str, Any]], now: int, start: int, end: int
) -> dict[str, Any]:
    inv = invoicing.new_invoice(
        sb,
        sub,
        billing_reason="subscription_update",
        now=now,
        period_start=start,
        period_end=end,
        lines=lines,
    )
    sub["latest_invoice"] = inv["id"]
    return inv
