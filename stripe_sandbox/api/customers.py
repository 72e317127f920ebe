"""Customers and payment methods."""

from __future__ import annotations

from typing import Any

from .. import lifecycle, payments
from ..app import Sandbox, diff
from ..errors import StripeError
from ..objects import core
from ..routes import route
from .common import created_filter, live, merge_metadata, paginate, set_fields


def _clock(sb: Sandbox, clock_id: str | None) -> str | None:
    if clock_id:
        sb.load(clock_id, "test_helpers.test_clock", "test_clock")
    return clock_id


@route("POST", "/v1/customers", "CustomerCreateParams")
def customer_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    clock = _clock(sb, p.get("test_clock"))
    cus = core.customer(
        now=sb.now(clock),
        email=p.get("email") or None,
        name=p.get("name") or None,
        description=p.get("description") or None,
        phone=p.get("phone") or None,
        metadata=merge_metadata({}, p.get("metadata")),
        test_clock=clock,
    )
    sb.save(cus)
    sb.emit("customer.created", cus)
    pm_ref = p.get("payment_method")
    default = (p.get("invoice_settings") or {}).get("default_payment_method")
    if pm_ref:
        payments.resolve(sb, pm_ref, cus, "payment_method")
    if default:
        before = payments.snapshot(cus)
        pm = payments.resolve(sb, default, cus, "invoice_settings[default_payment_method]")
        cus["invoice_settings"]["default_payment_method"] = pm["id"]
        sb.save(cus)
        sb.emit("customer.updated", cus, diff(before, cus))
    return cus


@route("GET", "/v1/customers/{id}", "CustomerRetrieveParams")
def customer_retrieve(sb: Sandbox, p: dict[str, Any], cus_id: str) -> dict[str, Any]:
    obj = sb.store.get(cus_id)
    if obj is not None and obj.get("object") == "customer" and obj.get("_deleted"):
        return core.deleted(obj)
    return sb.load(cus_id, "customer")


@route("POST", "/v1/customers/{id}", "CustomerUpdateParams")
def customer_update(sb: Sandbox, p: dict[str, Any], cus_id: str) -> dict[str, Any]:
    cus = sb.load(cus_id, "customer")
    before = payments.snapshot(cus)
    set_fields(cus, p, ["email", "name", "description", "phone"])
    cus["metadata"] = merge_metadata(cus["metadata"], p.get("metadata"))
    settings = p.get("invoice_settings") or {}
    if "default_payment_method" in settings:
        ref = settings["default_payment_method"]
        pm_id = None
        if ref:
            pm_id = payments.resolve(sb, ref, cus, "invoice_settings[default_payment_method]")["id"]
        cus["invoice_settings"]["default_payment_method"] = pm_id
    if p.get("payment_method"):
        payments.resolve(sb, p["payment_method"], cus, "payment_method")
    changes = diff(before, cus)
    sb.save(cus)
    if changes:
        sb.emit("customer.updated", cus, changes)
    return cus


@route("DELETE", "/v1/customers/{id}", "CustomerDeleteParams")
def customer_delete(sb: Sandbox, p: dict[str, Any], cus_id: str) -> dict[str, Any]:
    cus = sb.load(cus_id, "customer")
    for sub in live(sb, "subscription"):
        if sub["customer"] == cus_id and sub["status"] not in ("canceled", "incomplete_expired"):
            lifecycle.cancel_now(sb, sub, reason="cancellation_requested")
    cus["_deleted"] = True
    sb.save(cus)
    sb.emit("customer.deleted", cus)
    return core.deleted(cus)


@route("GET", "/v1/customers", "CustomerListParams")
def customer_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    items = [
        c
        for c in live(sb, "customer")
        if (p.get("email") is None or c["email"] == p["email"])
        and (c["test_clock"] == p["test_clock"] if p.get("test_clock") else not c["test_clock"])
        and created(c)
    ]
    return paginate(items, p, "/v1/customers")


@route("GET", "/v1/customers/{id}/payment_methods", "CustomerListPaymentMethodsParams")
def customer_payment_methods(sb: Sandbox, p: dict[str, Any], cus_id: str) -> dict[str, Any]:
    sb.load(cus_id, "customer")
    items = [
        pm
        for pm in sb.store.all("payment_method")
        if pm["customer"] == cus_id and p.get("type") in (None, "card")
    ]
    return paginate(items, p, f"/v1/customers/{cus_id}/payment_methods")


@route("GET", "/v1/payment_methods/{id}", "PaymentMethodRetrieveParams")
def payment_method_retrieve(sb: Sandbox, p: dict[str, Any], pm_id: str) -> dict[str, Any]:
    if pm_id in core.TEST_CARDS:
        return payments.create_pm(sb, pm_id, now=sb.now())
    return sb.load(pm_id, "payment_method")


@route("GET", "/v1/payment_methods", "PaymentMethodListParams")
def payment_method_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("customer"):
        return paginate([], p, "/v1/payment_methods")
    return customer_payment_methods(sb, p, p["customer"])


@route("POST", "/v1/payment_methods/{id}/attach", "PaymentMethodAttachParams")
def payment_method_attach(sb: Sandbox, p: dict[str, Any], pm_id: str) -> dict[str, Any]:
    cus = sb.load(p.get("customer"), "customer", "customer")
    return payments.resolve(sb, pm_id, cus, "payment_method")


@route("POST", "/v1/payment_methods/{id}/detach", "PaymentMethodDetachParams")
def payment_method_detach(sb: Sandbox, p: dict[str, Any], pm_id: str) -> dict[str, Any]:
    pm = sb.load(pm_id, "payment_method")
    if not pm.get("customer"):
        raise StripeError(
            "The payment method you provided is not attached to a customer "
            "so detachment is impossible.",
            code="payment_method_unexpected_state",
        )
    pm["customer"] = None
    sb.save(pm)
    sb.emit("payment_method.detached", pm)
    return pm
