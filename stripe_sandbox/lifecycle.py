"""How a subscription moves: creation, trial end, renewals, failed payments, cancellation."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import discounts, invoicing, payments
from .app import diff
from .errors import StripeError
from .objects import billing

if TYPE_CHECKING:
    from .app import Sandbox

DAY = 86400
ENDED = ("canceled", "incomplete_expired")
INCOMPLETE_EXPIRES_AFTER = 23 * 3600


def add_months(ts: int, months: int) -> int:
    d = datetime.fromtimestamp(ts, UTC)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    dom = min(d.day, calendar.monthrange(year, month)[1])
    return int(d.replace(year=year, month=month, day=dom).timestamp())


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    """Return ``ts`` moved on by ``count`` intervals (calendar months and years)."""
    if interval == "day":
        return ts + count * DAY
    if interval == "week":
        return ts + count * 7 * DAY
    if interval == "month":
        return add_months(ts, count)
    return add_months(ts, 12 * count)


def item_interval(item: dict[str, Any]) -> tuple[str, int]:
    rec = item["price"]["recurring"]
    return rec["interval"], rec["interval_count"]


def next_period_end(anchor: int, start: int, interval: str, count: int) -> int:
    """Return the first anchor-aligned period end after ``start``."""
    k = 1
    while True:
        end = add_interval(anchor, interval, k * count)
        if end > start:
            return end
        k += 1


def period(sub: dict[str, Any]) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def set_period(sub: dict[str, Any], start: int, end: int) -> None:
    for item in sub["items"]["data"]:
        item["current_period_start"] = start
        item["current_period_end"] = end


def _line(
    sb: Sandbox, item: dict[str, Any], start: int, end: int, *, trial: bool = False
) -> dict[str, Any]:
    price = item["price"]
    name = invoicing.product_name(sb, price)
    qty = item["quantity"]
    if trial:
        desc, amount = f"Trial period for {name}", 0
    else:
        amount = price["unit_amount"] * qty
        desc = f"{qty} {invoicing.TIMES} {name} (at {invoicing.price_label(sb, price)})"
    return {"item": item, "amount": amount, "description": desc, "start": start, "end": end}


# creation ----------------------------------------------------------------------------------
def create(
    sb: Sandbox,
    customer: dict[str, Any],
    items: list[tuple[dict[str, Any], int]],
    *,
    trial_end: int | None,
    pm: dict[str, Any] | None,
    metadata: dict[str, str],
    description: str | None,
    payment_behavior: str,
    off_session: bool,
    default_payment_method: str | None = None,
    redemptions: list[discounts.Redemption] | None = None,
    checkout_session: str | None = None,
) -> dict[str, Any]:
    """Start a subscription and bill its first invoice (a zero one during a trial)."""
    now = sb.now_for(customer)
    currencies = {price["currency"] for price, _ in items}
    if len(currencies) > 1:
        raise StripeError(
            "All prices on a subscription must have the same currency.", param="items"
        )
    if (
        not trial_end
        and pm is None
        and payment_behavior in ("allow_incomplete", "error_if_incomplete")
    ):
        raise StripeError(
            "This customer has no attached payment source or default payment "
            "method. Please consider adding a default payment method.",
            code="resource_missing",
        )
    sub = billing.subscription(
        now=now,
        customer=customer["id"],
        currency=currencies.pop(),
        test_clock=customer.get("test_clock"),
        metadata=metadata,
        description=description,
        default_payment_method=default_payment_method,
    )
    interval, count = min(
        (p["recurring"]["interval"], p["recurring"]["interval_count"]) for p, _ in items
    )
    anchor = trial_end or now
    end = trial_end or add_interval(now, interval, count)
    for price, qty in items:
        sub["items"]["data"].append(
            billing.subscription_item(
                now=now,
                sub_id=sub["id"],
                price=price,
                quantity=qty,
                period_start=now,
                period_end=end,
            )
        )
    sub["items"]["total_count"] = len(items)
    sub["billing_cycle_anchor"] = anchor
    if trial_end:
        sub.update(status="trialing", trial_start=now, trial_end=trial_end)
        lines = [_line(sb, it, now, end, trial=True) for it in sub["items"]["data"]]
    else:
        lines = [_line(sb, it, now, end) for it in sub["items"]["data"]]
    for redemption in redemptions or []:
        discounts.attach(sb, sub, redemption, now=now, checkout_session=checkout_session)
    sb.save(sub)
    inv = invoicing.new_invoice(
        sb,
        sub,
        billing_reason="subscription_create",
        now=now,
        period_start=now,
        period_end=now,
        lines=lines,
        announce=False,
    )
    # As on Stripe: the subscription (trialing or incomplete) first, then its invoice, then
    # the payment, then the move to active.
    sub["latest_invoice"] = inv["id"]
    sb.save(sub)
    sb.emit("customer.subscription.created", sub)
    sb.emit("invoice.created", inv, created=now)
    invoicing.finalize(sb, inv, now)
    if trial_end:
        return sub
    if payment_behavior == "default_incomplete":
        if inv["status"] == "paid":
            _set_status(sb, sub, "active", now)
        return sub
    result = invoicing.attempt(sb, inv, pm, now=now, off_session=off_session)
    if result != "succeeded" and payment_behavior == "error_if_incomplete":
        raise StripeError(
            "Your card was declined.",
            status=402,
            type="card_error",
            code="card_declined",
            decline_code="generic_decline",
        )
    if result == "succeeded":
        _set_status(sb, sub, "active", now)
    return sub


def _set_status(sb: Sandbox, sub: dict[str, Any], status: str, now: int) -> None:
    if sub["status"] == status:
        return
    before = payments.snapshot(sub)
    sub["status"] = status
    sb.save(sub)
    sb.emit("customer.subscription.updated", sub, diff(before, sub), created=now)


# time-driven steps -------------------------------------------------------------------------
def trial_will_end(sb: Sandbox, sub: dict[str, Any], now: int) -> None:
    sub["_x"]["trial_will_end_sent"] = True
    sb.save(sub)
    sb.emit("customer.subscription.trial_will_end", sub, created=now)


def start_period(sb: Sandbox, sub: dict[str, Any], now: int, *, from_trial: bool) -> None:
    """End a trial or renew: open the next period, invoice it and charge it off-session."""
    before = payments.snapshot(sub)
    if from_trial and sub["status"] == "trialing" and _trial_ends_without_card(sb, sub, now):
        return
    start = now if from_trial else period(sub)[1]
    interval, count = min(item_interval(it) for it in sub["items"]["data"])
    end = next_period_end(sub["billing_cycle_anchor"], start, interval, count)
    set_period(sub, start, end)
    if from_trial:
        sub["status"] = "active"
        sub["trial_end"] = min(sub["trial_end"] or now, now)
    lines = [_line(sb, it, start, end) for it in sub["items"]["data"]]
    for pending in sub["_x"].pop("pending_prorations", []):
        item = next(
            (it for it in sub["items"]["data"] if it["id"] == pending["item_id"]),
            sub["items"]["data"][0],
        )
        lines.append({**pending, "item": item, "proration": True})
    inv = invoicing.new_invoice(
        sb,
        sub,
        billing_reason="subscription_cycle",
        now=now,
        period_start=before["items"]["data"][0]["current_period_start"],
        period_end=start,
        lines=lines,
    )
    sub["latest_invoice"] = inv["id"]
    sb.save(sub)
    sb.emit("customer.subscription.updated", sub, diff(before, sub), created=now)
    invoicing.finalize(sb, inv, now)
    collect(sb, sub, inv, now)


def _trial_ends_without_card(sb: Sandbox, sub: dict[str, Any], now: int) -> bool:
    """Pause or cancel a trial that ends with no payment method, if its settings say so."""
    behaviour = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
    customer = sb.load(sub["customer"], "customer")
    if behaviour == "create_invoice" or payments.default_pm(sb, sub, customer) is not None:
        return False
    if behaviour == "cancel":
        cancel_now(sb, sub, reason="cancellation_requested", now=now)
        return True
    before = payments.snapshot(sub)
    sub["status"] = "paused"
    sb.save(sub)
    sb.emit("customer.subscription.updated", sub, diff(before, sub), created=now)
    sb.emit("customer.subscription.paused", sub, created=now)
    return True


def resume(sb: Sandbox, sub: dict[str, Any], now: int) -> None:
    """Resume a paused subscription: a new cycle starts now and is charged."""
    sub["billing_cycle_anchor"] = now
    start_period(sb, sub, now, from_trial=True)
    sb.emit("customer.subscription.resumed", sub, created=now)


def collect(sb: Sandbox, sub: dict[str, Any], inv: dict[str, Any], now: int) -> str:
    """Charge an open invoice of ``sub`` off-session and move the subscription accordingly."""
    customer = sb.load(sub["customer"], "customer")
    pm = payments.default_pm(sb, sub, customer)
    result = invoicing.attempt(sb, inv, pm, now=now, off_session=True)
    after_payment(sb, sub, inv, result, now)
    return result


def after_payment(
    sb: Sandbox, sub: dict[str, Any], inv: dict[str, Any], result: str, now: int
) -> None:
    """Apply a payment attempt's result: active, or past_due with the next retry scheduled."""
    if result == "succeeded":
        inv["_x"].pop("first_failed_at", None)
        sb.save(inv)
        _set_status(sb, sub, "active", now)
        return
    if sub["status"] in ("incomplete", *ENDED):
        return
    days = sb.settings.payment_retry_days
    first = inv["_x"].setdefault("first_failed_at", now)
    retries_done = inv["attempt_count"] - 1
    if retries_done < len(days):
        inv["next_payment_attempt"] = first + days[retries_done] * DAY
        sb.save(inv)
        _set_status(sb, sub, "past_due", now)
        return
    inv["next_payment_attempt"] = None
    sb.save(inv)
    if sb.settings.after_retries == "unpaid":
        _set_status(sb, sub, "unpaid", now)
    else:
        cancel_now(sb, sub, reason="payment_failed", now=now)


def expire_incomplete(sb: Sandbox, sub: dict[str, Any], now: int) -> None:
    before = payments.snapshot(sub)
    if sub["latest_invoice"]:
        inv = sb.load(sub["latest_invoice"], "invoice")
        if inv["status"] == "open":
            invoicing.void(sb, inv, now)
    sub["status"] = "incomplete_expired"
    sub["ended_at"] = now
    sb.save(sub)
    sb.emit("customer.subscription.updated", sub, diff(before, sub), created=now)


def cancel_now(
    sb: Sandbox,
    sub: dict[str, Any],
    *,
    reason: str,
    now: int | None = None,
) -> dict[str, Any]:
    """End a subscription at once (``customer.subscription.deleted``)."""
    now = now if now is not None else sb.now_for(sub)
    sub["status"] = "canceled"
    sub["canceled_at"] = sub["canceled_at"] or now
    sub["ended_at"] = now
    sub["cancellation_details"]["reason"] = reason
    sb.save(sub)
    for inv in sb.store.all("invoice"):
        if inv["subscription"] == sub["id"] and inv["next_payment_attempt"]:
            inv["next_payment_attempt"] = None
            sb.save(inv)
    sb.emit("customer.subscription.deleted", sub, created=now)
    return sub


def open_invoices(sb: Sandbox, sub: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        i
        for i in sb.store.all("invoice")
        if i["subscription"] == sub["id"] and i["status"] == "open"
    ]


def due_steps(sb: Sandbox, sub: dict[str, Any]) -> list[tuple[int, int, str, str | None]]:
    """Return ``(time, order, step, invoice id)`` for everything due on a subscription."""
    status = sub["status"]
    if status in ENDED:
        return []
    steps: list[tuple[int, int, str, str | None]] = []
    if status == "incomplete":
        return [(sub["created"] + INCOMPLETE_EXPIRES_AFTER, 0, "expire", None)]
    if status == "trialing" and sub["trial_end"]:
        warn = sub["trial_end"] - 3 * DAY
        if not sub["_x"].get("trial_will_end_sent") and warn > (sub["trial_start"] or 0):
            steps.append((warn, 1, "trial_will_end", None))
        if not sub["cancel_at"] or sub["cancel_at"] > sub["trial_end"]:
            steps.append((sub["trial_end"], 3, "trial_end", None))
    if sub["cancel_at"]:
        steps.append((sub["cancel_at"], 2, "cancel", None))
    if status in ("active", "past_due"):
        end = period(sub)[1]
        if not sub["cancel_at"] or sub["cancel_at"] > end:
            steps.append((end, 3, "renew", None))
    if status in ("past_due",):
        for inv in open_invoices(sb, sub):
            if inv["next_payment_attempt"]:
                steps.append((inv["next_payment_attempt"], 4, "retry", inv["id"]))
    return steps


def run_step(sb: Sandbox, sub: dict[str, Any], step: str, inv_id: str | None, now: int) -> None:
    """Carry out one due step at time ``now``."""
    if step == "trial_will_end":
        trial_will_end(sb, sub, now)
    elif step == "trial_end":
        start_period(sb, sub, now, from_trial=True)
    elif step == "renew":
        start_period(sb, sub, now, from_trial=False)
    elif step == "cancel":
        cancel_now(sb, sub, reason="cancellation_requested", now=now)
    elif step == "expire":
        expire_incomplete(sb, sub, now)
    elif step == "retry" and inv_id:
        inv = sb.load(inv_id, "invoice")
        collect(sb, sub, inv, now)
