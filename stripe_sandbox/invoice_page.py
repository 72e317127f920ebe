"""The hosted invoice page (``hosted_invoice_url``), its 3-D Secure step, and charge receipts.

An open invoice whose payment waits for authentication (card 3184 charged off-session)
shows Stripe's test authentication step: "Complete authentication" pays the invoice,
"Fail authentication" leaves it open. Any other open invoice takes a card number.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from . import charges, invoicing, payments
from .errors import StripeError
from .hosted_pages import Response, page, redirect

if TYPE_CHECKING:
    from .app import Sandbox

MESSAGES = {
    "succeeded": "Payment complete. Thank you!",
    "authentication_failed": "Authentication failed. The invoice is still open.",
    "declined": "Error: Your card was declined.",
    "requires_action": "",
}


def invoice_page(
    sb: Sandbox, inv_id: str, method: str, form: dict[str, str], message: str | None
) -> Response:
    with sb.store.lock:
        inv = sb.store.get(inv_id)
        if inv is None or inv.get("object") != "invoice" or not inv["hosted_invoice_url"]:
            return page("Not found", "<h1>This invoice does not exist.</h1>", 404)
        if method == "POST":
            try:
                with sb.store.transaction():
                    note = MESSAGES.get(_act(sb, inv, form), "")
            except StripeError as exc:
                note = "Error: " + exc.message
            query = f"?{urlencode({'message': note})}" if note else ""
            return redirect(f"{sb.base_url}/i/{inv_id}{query}")
        pi = charges.pending_payment_intent(sb, inv)
        pm = sb.store.get(pi["payment_method"]) if pi and pi["payment_method"] else None
        charge = _paid_charge(sb, inv)
    due = invoicing.money(inv["amount_remaining"], inv["currency"])
    lines = "".join(
        f"<p>{escape(li['description'] or '')}: "
        f"{escape(invoicing.money(li['amount'], li['currency']))}</p>"
        for li in inv["lines"]["data"]
    )
    note = ""
    if message:
        cls = "error" if message.startswith("Error") else "note"
        note = f"<p class='{cls}' role='status'>{escape(message)}</p>"
    summary = (
        f"<h1>Invoice {escape(inv['number'] or '')}</h1><div class='box'>"
        f"<p>From {escape(inv['account_name'])}</p>{lines}"
        f"<p>Total {escape(invoicing.money(inv['total'], inv['currency']))} · "
        f"<strong>{escape(inv['status'])}</strong></p></div>{note}"
    )
    if inv["status"] == "paid":
        paid_at = inv["status_transitions"]["paid_at"]
        receipt = (
            f"<p><a href='{escape(charge['receipt_url'])}'>View receipt</a></p>" if charge else ""
        )
        body = f"<p>Paid on {invoicing.day(paid_at)}.</p>{receipt}" if paid_at else ""
        return page("Invoice", summary + body)
    if inv["status"] != "open":
        return page("Invoice", summary + "<p>There is nothing to pay on this invoice.</p>")
    if pi is not None:
        card = f" with the card ending in {pm['card']['last4']}" if pm else ""
        body = (
            "<div class='box'><h2>Authentication required</h2>"
            f"<p>Your bank asks you to confirm the payment of {escape(due)} to "
            f"{escape(inv['account_name'])}{escape(card)}.</p>"
            "<p>This is a test payment page: choose how the authentication ends.</p>"
            "<form method='post'>"
            "<button type='submit' name='action' value='complete_authentication'>"
            "Complete authentication</button> "
            "<button type='submit' name='action' value='fail_authentication'>"
            "Fail authentication</button></form></div>"
        )
        return page("Authenticate payment", summary + body)
    body = (
        f"<p>Amount due: {escape(due)}</p><form method='post'>"
        "<input type='hidden' name='action' value='pay'>"
        "<label>Card number<input name='card_number' inputmode='numeric' "
        "placeholder='4242 4242 4242 4242' required></label>"
        f"<button type='submit'>Pay {escape(due)}</button></form>"
    )
    return page("Invoice", summary + body)


def _act(sb: Sandbox, inv: dict[str, Any], form: dict[str, str]) -> str:
    action = form.get("action", "")
    if action in ("complete_authentication", "fail_authentication"):
        return charges.authenticate(sb, inv, success=action == "complete_authentication")
    if action == "pay":
        token = payments.token_for_number(form.get("card_number", ""))
        return charges.pay_with_card(sb, inv, token)
    raise StripeError("Unknown action.")


def _paid_charge(sb: Sandbox, inv: dict[str, Any]) -> dict[str, Any] | None:
    pi_id = inv["_x"].get("pi")
    pi = sb.store.get(pi_id) if pi_id else None
    return sb.store.get(pi["latest_charge"]) if pi and pi["latest_charge"] else None


def receipt_page(sb: Sandbox, ch_id: str) -> Response:
    with sb.store.lock:
        ch = sb.store.get(ch_id)
    if ch is None or ch.get("object") != "charge" or ch["status"] != "succeeded":
        return page("Not found", "<h1>This receipt does not exist.</h1>", 404)
    card = ch["payment_method_details"]["card"]
    refunded = ""
    if ch["amount_refunded"]:
        amount = invoicing.money(ch["amount_refunded"], ch["currency"])
        refunded = f"<p>Refunded {escape(amount)}</p>"
    body = (
        f"<h1>Receipt</h1><div class='box'><p>Amount paid "
        f"{escape(invoicing.money(ch['amount'], ch['currency']))}</p>"
        f"<p>Date paid {invoicing.day(ch['created'])}</p>"
        f"<p>{escape(card['brand'].title())} ending in {escape(card['last4'])}</p>"
        f"{refunded}</div>"
    )
    return page("Receipt", body)
