"""The hosted Checkout and customer portal pages, and the sandbox's own JSON endpoints."""

from __future__ import annotations

import json
import re
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from . import invoicing, lifecycle, payments, webhooks
from .errors import StripeError

if TYPE_CHECKING:
    from .app import Sandbox

Response = tuple[int, dict[str, str], bytes]

STYLE = """body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;color:#222}
.box{border:1px solid #ddd;border-radius:8px;padding:1rem 1.5rem;margin:1rem 0}
.error{color:#b00;font-weight:600}.note{color:#070}button{padding:.4rem 1rem;margin:.2rem 0}
input{padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0 .8rem}"""


def page(title: str, body: str, status: int = 200) -> Response:
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )
    return status, {"Content-Type": "text/html; charset=utf-8"}, html.encode()


def redirect(url: str) -> Response:
    return 303, {"Location": url, "Content-Type": "text/plain"}, b""


def as_json(data: Any, status: int = 200) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(data, indent=2).encode()


def dispatch(sb: Sandbox, method: str, path: str, query: str, raw: bytes) -> Response:
    """Answer a request outside ``/v1``."""
    form = (
        dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        if method == "POST"
        else {}
    )
    args = dict(parse_qsl(query, keep_blank_values=True))
    if m := re.fullmatch(r"/c/pay/(cs_test_\w+)", path):
        return checkout_page(sb, m.group(1), method, form)
    if m := re.fullmatch(r"/p/session/(bps_\w+)", path):
        return portal_page(sb, m.group(1), method, form, args.get("message"))
    if path == "/_sandbox/health":
        return as_json({"ok": True})
    if path == "/_sandbox/deliveries":
        return as_json({"data": webhooks.deliveries(sb, args.get("event"), args.get("endpoint"))})
    if m := re.fullmatch(r"/i/(in_\w+)", path):
        from .invoice_page import invoice_page

        return invoice_page(sb, m.group(1), method, form, args.get("message"))
    if m := re.fullmatch(r"/r/(ch_\w+)", path):
        from .invoice_page import receipt_page

        return receipt_page(sb, m.group(1))
    return as_json(
        {
            "error": {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL ({method}: {path}).",
            }
        },
        404,
    )


# checkout ------------------------------------------------------------------------------------
def checkout_page(sb: Sandbox, cs_id: str, method: str, form: dict[str, str]) -> Response:
    from .api import checkout

    error = None
    with sb.store.lock:
        cs = sb.store.get(cs_id)
        if cs is None or cs.get("object") != "checkout.session":
            return page("Not found", "<h1>This checkout page does not exist.</h1>", 404)
        if method == "POST" and form.get("action") == "apply_code":
            try:
                with sb.store.transaction():
                    checkout.apply_code(
                        sb, sb.load(cs_id, "checkout.session"), form.get("code", "")
                    )
                return redirect(f"{sb.base_url}/c/pay/{cs_id}")
            except StripeError as exc:
                error = exc.message
        elif method == "POST":
            try:
                with sb.store.transaction():
                    _quantities_set(sb, sb.load(cs_id, "checkout.session"), form)
                    done = checkout.complete(
                        sb,
                        sb.load(cs_id, "checkout.session"),
                        card_number=form.get("card_number", "").replace(" ", ""),
                        email=form.get("email") or None,
                    )
                url = done["success_url"] or f"{sb.base_url}/c/pay/{cs_id}"
                return redirect(url.replace("{CHECKOUT_SESSION_ID}", cs_id))
            except StripeError as exc:
                error = exc.message
            cs = sb.store.get(cs_id) or cs
        lines = [(sb.store.get(li["price"]), li["quantity"]) for li in cs["_x"]["line_items"]]
    if cs["status"] == "complete":
        return page("Paid", "<h1>Payment complete</h1><p>This checkout session is complete.</p>")
    if cs["status"] != "open":
        return page("Expired", "<h1>This checkout session has expired.</h1>", 410)
    rows = "".join(
        f"<p><strong>{escape(invoicing.product_name(sb, pr))}</strong> {invoicing.TIMES} {qty}: "
        f"{escape(invoicing.price_label(sb, pr))}</p>"
        for pr, qty in lines
        if pr
    )
    data = cs["_x"]["subscription_data"]
    trial = ""
    if data.get("trial_period_days"):
        trial = f"<p>{data['trial_period_days']} days free, then billed as above.</p>"
    elif data.get("trial_end"):
        trial = f"<p>Free until {invoicing.day(data['trial_end'])}.</p>"
    email_field = (
        ""
        if cs["customer"] or cs["customer_email"]
        else "<label>Email<input name='email' type='email' required></label>"
    )
    err = f"<p class='error' role='alert'>{escape(error)}</p>" if error else ""
    quantities = "".join(
        f"<label>Quantity<input name='quantity_{n}' type='number' "
        f"min='{li['adjustable_quantity']['minimum']}' "
        f"max='{li['adjustable_quantity']['maximum']}' value='{li['quantity']}'></label>"
        for n, li in enumerate(cs["_x"]["line_items"])
        if (li.get("adjustable_quantity") or {}).get("enabled")
    )
    with sb.store.lock:
        promo = _promotion_block(sb, cs)
    back = f"<p><a href='{escape(cs['cancel_url'])}'>← Back</a></p>" if cs["cancel_url"] else ""
    paying = cs["mode"] == "payment"
    field = (
        "<label>Card number or IBAN<input name='card_number' "
        "placeholder='4242 4242 4242 4242' required></label>"
        if paying
        else "<label>Card number<input name='card_number' inputmode='numeric' "
        "placeholder='4242 4242 4242 4242' required></label>"
    )
    verb = "Pay" if paying else "Subscribe"
    body = (
        f"<h1>{verb}</h1><div class='box'>{rows}{trial}"
        f"<p>Total due today: {escape(invoicing.money(cs['amount_total'], cs['currency']))}"
        f"</p>{promo}</div>{err}<form method='post'>{quantities}{email_field}{field}"
        f"<button type='submit'>{verb}</button></form>" + back
    )
    return page("Checkout", body, 402 if error else 200)


def _quantities_set(sb: Sandbox, cs: dict[str, Any], form: dict[str, str]) -> None:
    """Apply the quantities the customer chose for adjustable lines (``quantity_<n>``)."""
    from .api import checkout

    for n, li in enumerate(cs["_x"]["line_items"]):
        given = form.get(f"quantity_{n}", "").strip()
        if given and int(li["quantity"]) != (int(given) if given.isdigit() else -1):
            if not given.isdigit():
                raise StripeError("Enter a whole number of items.", param="quantity")
            checkout.quantity_set(sb, cs, n, int(given))


def _promotion_block(sb: Sandbox, cs: dict[str, Any]) -> str:
    """Show the applied discount, or the promotion code field when the session allows one."""
    applied = cs["_x"].get("redemptions") or []
    if applied:
        parts = []
        for coupon_id, promo_id in applied:
            coupon = sb.store.get(coupon_id) or {}
            promo = sb.store.get(promo_id) if promo_id else None
            label = promo["code"] if promo else coupon.get("name") or coupon_id
            parts.append(f"<p class='note'>{escape(label)}: {escape(_coupon_terms(coupon))}</p>")
        off = cs["total_details"]["amount_discount"]
        if off:
            parts.append(f"<p>Discount: -{escape(invoicing.money(off, cs['currency']))}</p>")
        return "".join(parts)
    if not cs["allow_promotion_codes"]:
        return ""
    return (
        "<form method='post'><input type='hidden' name='action' value='apply_code'>"
        "<label>Promotion code<input name='code' autocomplete='off'></label>"
        "<button type='submit'>Apply</button></form>"
    )


def _coupon_terms(coupon: dict[str, Any]) -> str:
    if coupon.get("percent_off") is not None:
        what = f"{coupon['percent_off']:g}% off"
    else:
        what = (
            f"{invoicing.money(coupon.get('amount_off') or 0, coupon.get('currency') or 'usd')} off"
        )
    if coupon.get("duration") == "repeating":
        return f"{what} for {coupon['duration_in_months']} months"
    return f"{what} {'forever' if coupon.get('duration') == 'forever' else 'once'}"


# portal ---------------------------------------------------------------------------------------
def portal_page(
    sb: Sandbox, bps_id: str, method: str, form: dict[str, str], message: str | None
) -> Response:
    from .api import portal, portal_flows

    with sb.store.lock:
        bps = sb.store.get(bps_id)
        if bps is None or bps.get("object") != "billing_portal.session":
            return page("Not found", "<h1>This portal session does not exist.</h1>", 404)
        home = f"{sb.base_url}/p/session/{bps_id}"
        if method == "POST":
            target = home
            try:
                with sb.store.transaction():
                    note = portal.act(sb, bps, form)
                if form.get("action") == "confirm_update":
                    target, note = portal_flows.completion_target(bps, home, note)
            except StripeError as exc:
                note = "Error: " + exc.message
            if target != home:
                return redirect(target)
            return redirect(f"{home}?{urlencode({'message': note})}")
        pending = portal_flows.pending_update(bps)
        if pending is not None:
            return _confirm_page(sb, bps, pending, message)
        conf = sb.load(bps["configuration"], "billing_portal.configuration")
        subs = portal.customer_subscriptions(sb, bps["customer"])
        prices = portal.switchable_prices(sb, conf)
        customer = sb.load(bps["customer"], "customer")
        # As Stripe's portal does: the customer's default card, else the card a subscription
        # charges (Checkout sets the subscription's, not the customer's).
        pm = payments.default_pm(sb, None, customer) or next(
            (found for s in subs if (found := payments.default_pm(sb, s, customer))), None
        )
        blocks = [_subscription_block(sb, s, prices, portal.quantity_bounds(conf, s)) for s in subs]
    note = ""
    if message:
        cls = "error" if message.startswith("Error") else "note"
        note = f"<p class='{cls}' role='status'>{escape(message)}</p>"
    card = f"Card ending in {pm['card']['last4']}" if pm else "No card on file"
    back = f"<p><a href='{escape(bps['return_url'])}'>← Return</a></p>" if bps["return_url"] else ""
    body = (
        f"<h1>Your subscription</h1>{note}{''.join(blocks) or '<p>No subscription.</p>'}"
        f"<div class='box'><h2>Payment method</h2><p>{escape(card)}</p>"
        "<form method='post'><input type='hidden' name='action' value='update_card'>"
        "<label>New card number<input name='card_number' required></label>"
        "<button type='submit'>Replace card</button></form></div>" + back
    )
    return page("Customer portal", body)


def _confirm_page(
    sb: Sandbox, bps: dict[str, Any], pending: dict[str, Any], message: str | None
) -> Response:
    """A deep link's one page: the change asked for (``subscription_update_confirm``)."""
    sub = sb.load(pending["subscription"], "subscription")
    item = pending["items"][0]
    current = sub["items"]["data"][0]["price"]
    new = sb.load(item["price"], "price") if item.get("price") else current
    note = f"<p class='error' role='status'>{escape(message)}</p>" if message else ""
    back = f"<p><a href='{escape(bps['return_url'])}'>← Return</a></p>" if bps["return_url"] else ""
    body = (
        f"<h1>Confirm your update</h1>{note}<div class='box'>"
        f"<p>Current plan: {escape(invoicing.product_name(sb, current))} "
        f"({escape(invoicing.price_label(sb, current))})</p>"
        f"<p>New plan: <strong>{escape(invoicing.product_name(sb, new))}</strong> "
        f"({escape(invoicing.price_label(sb, new))})</p>"
        "<form method='post'><input type='hidden' name='action' value='confirm_update'>"
        f"<input type='hidden' name='subscription' value='{escape(sub['id'])}'>"
        "<button type='submit'>Confirm</button></form></div>" + back
    )
    return page("Confirm your update", body)


def _subscription_block(
    sb: Sandbox,
    sub: dict[str, Any],
    prices: list[dict[str, Any]],
    bounds: tuple[int, int] | None = None,
) -> str:
    item = sub["items"]["data"][0]
    price = item["price"]
    end = lifecycle.period(sub)[1]
    hidden = f"<input type='hidden' name='subscription' value='{escape(sub['id'])}'>"
    if sub["cancel_at"]:
        state = f"Cancels on {invoicing.day(sub['cancel_at'])}"
        action = (
            f"<form method='post'>{hidden}<input type='hidden' name='action' "
            "value='resume'><button type='submit'>Renew plan</button></form>"
        )
    else:
        state = f"Renews on {invoicing.day(end)}"
        action = (
            f"<form method='post'>{hidden}<input type='hidden' name='action' "
            "value='cancel'><button type='submit'>Cancel plan</button></form>"
        )
    switches = "".join(
        f"<form method='post'>{hidden}<input type='hidden' name='action' value='switch'>"
        f"<input type='hidden' name='price' value='{escape(pr['id'])}'><button type='submit'>"
        f"Switch to {escape(invoicing.product_name(sb, pr))} "
        f"({escape(invoicing.price_label(sb, pr))})</button></form>"
        for pr in prices
        if pr["id"] != price["id"]
    )
    quantity = ""
    if bounds is not None:
        quantity = (
            f"<form method='post'>{hidden}<input type='hidden' name='action' value='quantity'>"
            f"<label>Quantity<input name='quantity' type='number' min='{bounds[0]}' "
            f"max='{bounds[1]}' value='{item['quantity']}'></label>"
            "<button type='submit'>Update quantity</button></form>"
        )
    return (
        f"<div class='box' id='{quote(sub['id'])}'><h2>"
        f"{escape(invoicing.product_name(sb, price))}</h2>"
        f"<p>{escape(invoicing.price_label(sb, price))} {invoicing.TIMES} {item['quantity']} · "
        f"{escape(sub['status'])} · {escape(state)}</p>{action}{quantity}{switches}</div>"
    )
