"""Charges (made by payment intents) and refunds."""

from __future__ import annotations

from typing import Any

from .. import charges, payments
from ..app import Sandbox, diff
from ..errors import StripeError, invalid
from ..routes import route
from .common import created_filter, live, merge_metadata, paginate

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


@route("GET", "/v1/charges", "ChargeListParams")
def charge_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    items = [
        ch
        for ch in live(sb, "charge")
        if ("customer" not in p or ch["customer"] == p["customer"])
        and ("payment_intent" not in p or ch["payment_intent"] == p["payment_intent"])
        and ("transfer_group" not in p or ch["transfer_group"] == p["transfer_group"])
        and created(ch)
    ]
    return paginate(items, p, "/v1/charges")


@route("GET", "/v1/charges/{id}", "ChargeRetrieveParams")
def charge_retrieve(sb: Sandbox, p: dict[str, Any], ch_id: str) -> dict[str, Any]:
    return sb.load(ch_id, "charge")


@route("POST", "/v1/charges/{id}", "ChargeUpdateParams")
def charge_update(sb: Sandbox, p: dict[str, Any], ch_id: str) -> dict[str, Any]:
    ch = sb.load(ch_id, "charge")
    before = payments.snapshot(ch)
    ch["metadata"] = merge_metadata(ch["metadata"], p.get("metadata"))
    for key in ("description", "receipt_email"):
        if key in p:
            ch[key] = p[key] or None
    changes = diff(before, ch)
    sb.save(ch)
    if changes:
        sb.emit("charge.updated", ch, changes)
    return ch


@route("GET", "/v1/charges/{id}/refunds", "ChargeListRefundsParams")
def charge_refunds(sb: Sandbox, p: dict[str, Any], ch_id: str) -> dict[str, Any]:
    sb.load(ch_id, "charge")
    items = [r for r in live(sb, "refund") if r["charge"] == ch_id]
    return paginate(items, p, f"/v1/charges/{ch_id}/refunds")


@route("POST", "/v1/refunds", "RefundCreateParams")
def refund_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("origin"):
        raise invalid("origin", "The sandbox refunds only charges, not customer balances.")
    if not p.get("charge") and not p.get("payment_intent"):
        raise StripeError(
            "One of the following params should be provided for this request: "
            "payment_intent or charge."
        )
    if p.get("charge"):
        ch = sb.load(p["charge"], "charge", "charge")
        if p.get("payment_intent") and p["payment_intent"] != ch["payment_intent"]:
            raise invalid(
                "payment_intent",
                f"The charge {ch['id']} does not belong to the PaymentIntent "
                f"{p['payment_intent']}.",
            )
    else:
        ch = charges.charge_of_payment_intent(sb, p["payment_intent"], "payment_intent")
    if p.get("currency") and p["currency"].lower() != ch["currency"]:
        raise invalid("currency", f"The currency must be the charge's, {ch['currency']}.")
    reason = p.get("reason") or None
    if reason is not None and reason not in REASONS:
        raise invalid("reason", f"Invalid reason: must be one of {', '.join(REASONS)}", None)
    return charges.refund(
        sb,
        ch,
        amount=p.get("amount"),
        reason=reason,
        metadata=merge_metadata({}, p.get("metadata")),
    )


@route("GET", "/v1/refunds/{id}", "RefundRetrieveParams")
def refund_retrieve(sb: Sandbox, p: dict[str, Any], re_id: str) -> dict[str, Any]:
    return sb.load(re_id, "refund")


@route("POST", "/v1/refunds/{id}", "RefundUpdateParams")
def refund_update(sb: Sandbox, p: dict[str, Any], re_id: str) -> dict[str, Any]:
    re = sb.load(re_id, "refund")
    before = payments.snapshot(re)
    re["metadata"] = merge_metadata(re["metadata"], p.get("metadata"))
    changes = diff(before, re)
    sb.save(re)
    if changes:
        ch = sb.load(re["charge"], "charge")
        ch["refunds"]["data"] = [
            sb.public(re) if r["id"] == re_id else r for r in ch["refunds"]["data"]
        ]
        sb.save(ch)
        sb.emit("refund.updated", re, changes)
    return re


@route("GET", "/v1/refunds", "RefundListParams")
def refund_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    items = [
        r
        for r in live(sb, "refund")
        if ("charge" not in p or r["charge"] == p["charge"])
        and ("payment_intent" not in p or r["payment_intent"] == p["payment_intent"])
        and created(r)
    ]
    return paginate(items, p, "/v1/refunds")
