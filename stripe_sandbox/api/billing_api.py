"""Invoices, invoice payments and payment intents made by the lifecycle."""

from __future__ import annotations

from typing import Any

from .. import charges, invoicing, payments
from ..app import Sandbox
from ..errors import StripeError
from ..routes import route
from .common import created_filter, live, paginate


@route("GET", "/v1/invoices", "InvoiceListParams")
def invoice_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    items = [
        i
        for i in live(sb, "invoice")
        if ("customer" not in p or i["customer"] == p["customer"])
        and ("subscription" not in p or i["subscription"] == p["subscription"])
        and ("status" not in p or i["status"] == p["status"])
        and ("collection_method" not in p or i["collection_method"] == p["collection_method"])
        and created(i)
    ]
    return paginate(items, p, "/v1/invoices")


@route("GET", "/v1/invoices/{id}", "InvoiceRetrieveParams")
def invoice_retrieve(sb: Sandbox, p: dict[str, Any], inv_id: str) -> dict[str, Any]:
    return sb.load(inv_id, "invoice")


@route("GET", "/v1/invoices/{id}/lines", "InvoiceLineItemListParams")
def invoice_lines(sb: Sandbox, p: dict[str, Any], inv_id: str) -> dict[str, Any]:
    inv = sb.load(inv_id, "invoice")
    return paginate(list(reversed(inv["lines"]["data"])), p, f"/v1/invoices/{inv_id}/lines")


@route("POST", "/v1/invoices/{id}/pay", "InvoicePayParams")
def invoice_pay(sb: Sandbox, p: dict[str, Any], inv_id: str) -> dict[str, Any]:
    inv = sb.load(inv_id, "invoice")
    if inv["status"] == "paid":
        raise StripeError("Invoice is already paid", code="invoice_already_paid")
    if inv["status"] != "open":
        raise StripeError(
            f"You can only pay an invoice that is open (this one is {inv['status']}).",
            code="invoice_not_editable",
        )
    customer = sb.load(inv["customer"], "customer")
    sub = sb.store.get(inv["subscription"]) if inv["subscription"] else None
    pm = (
        payments.resolve(sb, p["payment_method"], customer, "payment_method")
        if p.get("payment_method")
        else payments.default_pm(sb, sub, customer)
    )
    now = sb.now_for(customer)
    result = invoicing.attempt(sb, inv, pm, now=now, off_session=p.get("off_session", True))
    charges.settle(sb, inv, result, now)
    if result == "requires_action":
        raise StripeError(
            "Payment for this invoice requires a payment method with authentication.",
            status=402,
            type="card_error",
            code="invoice_payment_intent_requires_action",
            commit=True,
        )
    if result == "no_payment_method":
        raise StripeError(
            "This customer has no attached payment source or default payment method.",
            code="resource_missing",
            commit=True,
        )
    if result != "succeeded":
        raise StripeError(
            "Your card was declined.",
            status=402,
            type="card_error",
            code="card_declined",
            decline_code="generic_decline",
            commit=True,
        )
    return inv


@route("GET", "/v1/invoice_payments", "InvoicePaymentListParams")
def invoice_payment_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    pay = p.get("payment") or {}
    items = [
        ip
        for ip in live(sb, "invoice_payment")
        if ("invoice" not in p or ip["invoice"] == p["invoice"])
        and ("status" not in p or ip["status"] == p["status"])
        and (
            "payment_intent" not in pay or ip["payment"]["payment_intent"] == pay["payment_intent"]
        )
    ]
    return paginate(items, p, "/v1/invoice_payments")


@route("GET", "/v1/invoice_payments/{id}", "InvoicePaymentRetrieveParams")
def invoice_payment_retrieve(sb: Sandbox, p: dict[str, Any], ip_id: str) -> dict[str, Any]:
    return sb.load(ip_id, "invoice_payment")


@route("GET", "/v1/payment_intents", "PaymentIntentListParams")
def payment_intent_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    items = [
        pi
        for pi in live(sb, "payment_intent")
        if ("customer" not in p or pi["customer"] == p["customer"]) and created(pi)
    ]
    return paginate(items, p, "/v1/payment_intents")


@route("GET", "/v1/payment_intents/{id}", "PaymentIntentRetrieveParams")
def payment_intent_retrieve(sb: Sandbox, p: dict[str, Any], pi_id: str) -> dict[str, Any]:
    return sb.load(pi_id, "payment_intent")
