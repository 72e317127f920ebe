"""Products and prices."""

from __future__ import annotations

from typing import Any

from ..app import Sandbox, diff
from ..errors import StripeError, invalid, missing
from ..objects import core
from ..payments import snapshot
from ..routes import route
from .common import created_filter, live, merge_metadata, paginate, set_fields


@route("POST", "/v1/products", "ProductCreateParams")
def product_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("name"):
        raise missing("name")
    if p.get("id") and sb.store.get(p["id"]) is not None:
        raise StripeError("Product already exists.", param="id", code="resource_already_exists")
    prod = core.product(
        now=sb.now(),
        name=p["name"],
        product_id=p.get("id"),
        active=p.get("active", True),
        description=p.get("description") or None,
        metadata=merge_metadata({}, p.get("metadata")),
    )
    set_fields(prod, p, ["statement_descriptor", "unit_label", "url", "tax_code", "shippable"])
    sb.save(prod)
    sb.emit("product.created", prod)
    if p.get("default_price_data"):
        data = p["default_price_data"]
        price = _price(sb, prod["id"], data, {})
        before = snapshot(prod)
        prod["default_price"] = price["id"]
        sb.save(prod)
        sb.emit("product.updated", prod, diff(before, prod))
    return prod


@route("GET", "/v1/products/{id}", "ProductRetrieveParams")
def product_retrieve(sb: Sandbox, p: dict[str, Any], prod_id: str) -> dict[str, Any]:
    return sb.load(prod_id, "product")


@route("POST", "/v1/products/{id}", "ProductUpdateParams")
def product_update(sb: Sandbox, p: dict[str, Any], prod_id: str) -> dict[str, Any]:
    prod = sb.load(prod_id, "product")
    before = snapshot(prod)
    set_fields(
        prod,
        p,
        [
            "name",
            "active",
            "description",
            "statement_descriptor",
            "unit_label",
            "url",
            "tax_code",
            "shippable",
        ],
    )
    if p.get("default_price"):
        sb.load(p["default_price"], "price", "default_price")
        prod["default_price"] = p["default_price"]
    prod["metadata"] = merge_metadata(prod["metadata"], p.get("metadata"))
    changes = diff(before, prod)
    if changes:
        prod["updated"] = sb.now()
        sb.save(prod)
        sb.emit("product.updated", prod, changes)
    return prod


@route("DELETE", "/v1/products/{id}", "ProductDeleteParams")
def product_delete(sb: Sandbox, p: dict[str, Any], prod_id: str) -> dict[str, Any]:
    prod = sb.load(prod_id, "product")
    if any(pr["product"] == prod_id for pr in live(sb, "price")):
        raise StripeError(
            "This product cannot be deleted because it has one or more user-created prices.",
            param="id",
        )
    prod["_deleted"] = True
    sb.save(prod)
    sb.emit("product.deleted", prod)
    return core.deleted(prod)


@route("GET", "/v1/products", "ProductListParams")
def product_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    items = [
        o
        for o in live(sb, "product")
        if ("active" not in p or o["active"] == p["active"])
        and ("ids" not in p or o["id"] in p["ids"])
        and created(o)
    ]
    return paginate(items, p, "/v1/products")


def _price(
    sb: Sandbox,
    product_id: str,
    p: dict[str, Any],
    extra: dict[str, Any],
) -> dict[str, Any]:
    if not p.get("currency"):
        raise missing("currency")
    if "unit_amount" not in p and "unit_amount_decimal" not in p:
        raise missing("unit_amount")
    amount = p.get("unit_amount")
    if amount is None:
        amount = round(float(p["unit_amount_decimal"]))
    if amount < 0:
        raise invalid("unit_amount", "This value must be greater than or equal to 0.")
    recurring = p.get("recurring")
    if recurring is not None:
        if not recurring.get("interval"):
            raise missing("recurring[interval]")
        if recurring["interval"] not in ("day", "week", "month", "year"):
            raise invalid(
                "recurring[interval]",
                "Invalid recurring[interval]: must be one of day, week, month, or year",
            )
    price = core.price(
        now=sb.now(),
        product_id=product_id,
        currency=p["currency"],
        unit_amount=amount,
        recurring=recurring,
        active=extra.get("active", True),
        lookup_key=extra.get("lookup_key"),
        nickname=extra.get("nickname"),
        metadata=merge_metadata({}, extra.get("metadata")),
    )
    sb.save(price)
    sb.emit("price.created", price)
    return price


def _take_lookup_key(sb: Sandbox, key: str | None, transfer: bool) -> None:
    if not key:
        return
    for other in live(sb, "price"):
        if other["lookup_key"] == key:
            if not transfer:
                raise StripeError(
                    f"A price (`{other['id']}`) already uses that lookup key.",
                    param="lookup_key",
                )
            before = snapshot(other)
            other["lookup_key"] = None
            sb.save(other)
            sb.emit("price.updated", other, diff(before, other))


@route("POST", "/v1/prices", "PriceCreateParams")
def price_create(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("product_data"):
        if not p["product_data"].get("name"):
            raise missing("product_data[name]")
        prod = core.product(
            now=sb.now(),
            name=p["product_data"]["name"],
            metadata=merge_metadata({}, p["product_data"].get("metadata")),
        )
        sb.save(prod)
        sb.emit("product.created", prod)
        product_id = prod["id"]
    elif p.get("product"):
        product_id = sb.load(p["product"], "product", "product")["id"]
    else:
        raise missing("product")
    _take_lookup_key(sb, p.get("lookup_key"), bool(p.get("transfer_lookup_key")))
    return _price(sb, product_id, p, p)


@route("GET", "/v1/prices/{id}", "PriceRetrieveParams")
def price_retrieve(sb: Sandbox, p: dict[str, Any], price_id: str) -> dict[str, Any]:
    return sb.load(price_id, "price")


@route("POST", "/v1/prices/{id}", "PriceUpdateParams")
def price_update(sb: Sandbox, p: dict[str, Any], price_id: str) -> dict[str, Any]:
    price = sb.load(price_id, "price")
    before = snapshot(price)
    if "lookup_key" in p and p["lookup_key"] != price["lookup_key"]:
        _take_lookup_key(sb, p["lookup_key"], bool(p.get("transfer_lookup_key")))
    set_fields(price, p, ["active", "nickname", "lookup_key", "tax_behavior"])
    price["metadata"] = merge_metadata(price["metadata"], p.get("metadata"))
    changes = diff(before, price)
    if changes:
        sb.save(price)
        sb.emit("price.updated", price, changes)
    return price


@route("GET", "/v1/prices", "PriceListParams")
def price_list(sb: Sandbox, p: dict[str, Any]) -> dict[str, Any]:
    created = created_filter(p.get("created"))
    rec = p.get("recurring") or {}
    items = [
        o
        for o in live(sb, "price")
        if ("active" not in p or o["active"] == p["active"])
        and ("product" not in p or o["product"] == p["product"])
        and ("currency" not in p or o["currency"] == p["currency"].lower())
        and ("type" not in p or o["type"] == p["type"])
        and ("lookup_keys" not in p or o["lookup_key"] in p["lookup_keys"])
        and ("interval" not in rec or (o["recurring"] or {}).get("interval") == rec["interval"])
        and created(o)
    ]
    return paginate(items, p, "/v1/prices")
