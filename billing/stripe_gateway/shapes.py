"""Stripe's objects as small frozen shapes: the only place that reads Stripe's keys.

Each shape is built by ``from_api`` from an object as Stripe sends it (a dict, expanded or
not), and names what Masthead uses in Masthead's terms. Layout that depends on the API
version (the period end on the first item, the invoice's ``parent.subscription_details``)
is read here once.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def moment(unix: int | None) -> datetime | None:
    """A Stripe timestamp (Unix seconds) as an aware datetime; None for none."""
    return datetime.fromtimestamp(unix, tz=UTC) if unix else None


def stripe_id_of(value: Any) -> str:
    """Return the id of an object Stripe sent either expanded or as its id."""
    if isinstance(value, dict):
        return str(value.get("id", ""))
    return str(value or "")


def _metadata_id(data: dict[str, Any], key: str) -> int | None:
    """A Masthead id Stripe keeps in the object's metadata, when it is one."""
    value = (data.get("metadata") or {}).get(key)
    return int(value) if value and str(value).isdigit() else None


def _metadata_ref(data: dict[str, Any], key: str) -> str:
    value = (data.get("metadata") or {}).get(key)
    return str(value) if value else ""


def first_item(subscription: dict[str, Any]) -> dict[str, Any]:
    """The subscription's first item (Masthead's subscriptions have one), or an empty one."""
    items = (subscription.get("items") or {}).get("data") or [{}]
    item: dict[str, Any] = items[0]
    return item


@dataclass(frozen=True)
class StripeCustomer:
    id: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeCustomer":
        return cls(id=str(data["id"]))


@dataclass(frozen=True)
class StripeRecord:
    """Any Stripe object kept whole (``data``), as Stripe holds it: what a reader's data
    export shows of their customer, subscriptions and invoices at Stripe."""

    id: str
    deleted: bool
    data: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeRecord":
        return cls(id=str(data.get("id") or ""), deleted=bool(data.get("deleted")), data=data)


@dataclass(frozen=True)
class StripeProduct:
    id: str
    name: str
    description: str
    active: bool
    plan_ref: str  # the plan id in the metadata, as written there

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeProduct":
        return cls(
            id=str(data["id"]),
            name=data.get("name") or "",
            description=data.get("description") or "",
            active=bool(data.get("active")),
            plan_ref=_metadata_ref(data, "plan_id"),
        )


@dataclass(frozen=True)
class StripePrice:
    id: str
    active: bool
    unit_amount: int | None
    currency: str
    interval: str
    plan_ref: str  # the plan id in the metadata, as written there ("" for another's price)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripePrice":
        return cls(
            id=str(data.get("id", "")),
            active=bool(data.get("active")),
            unit_amount=data.get("unit_amount"),
            currency=data.get("currency") or "",
            interval=(data.get("recurring") or {}).get("interval", ""),
            plan_ref=_metadata_ref(data, "plan_id"),
        )

    @property
    def plan_id(self) -> int | None:
        """The Masthead plan the price belongs to, when its metadata names one."""
        return int(self.plan_ref) if self.plan_ref.isdigit() else None


def _bounds(product: dict[str, Any]) -> tuple[int, int] | None:
    """A portal product's adjustable quantity as (minimum, maximum), None when not enabled."""
    adjustable = product.get("adjustable_quantity") or {}
    if not adjustable.get("enabled"):
        return None
    return int(adjustable.get("minimum") or 0), int(adjustable.get("maximum") or 99)


@dataclass(frozen=True)
class StripePortalConfiguration:
    id: str
    default_return_url: str
    switch_enabled: bool
    # The plans a reader may switch between: (product id, its prices, the quantity bounds
    # when the reader may change it there).
    switch_products: frozenset[tuple[str, frozenset[str], tuple[int, int] | None]]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripePortalConfiguration":
        update = (data.get("features") or {}).get("subscription_update") or {}
        listed = update.get("products") or []
        return cls(
            id=str(data["id"]),
            default_return_url=data.get("default_return_url") or "",
            switch_enabled=bool(update.get("enabled")),
            switch_products=frozenset(
                (p["product"], frozenset(p.get("prices") or []), _bounds(p)) for p in listed
            ),
        )


@dataclass(frozen=True)
class StripeCheckoutSession:
    id: str
    url: str
    mode: str
    status: str
    client_reference_id: str
    customer_id: str
    subscription_id: str
    payment_status: str = ""  # paid, unpaid (a debit still processing), no_payment_required
    payment_intent_id: str = ""
    amount_total: int | None = None
    currency: str = ""
    email: str = ""  # the payer's, as given on the page or to the session
    metadata: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeCheckoutSession":
        details = data.get("customer_details") or {}
        return cls(
            id=str(data.get("id", "")),
            url=data.get("url") or "",
            mode=data.get("mode") or "",
            status=data.get("status") or "",
            client_reference_id=str(data.get("client_reference_id") or ""),
            customer_id=stripe_id_of(data.get("customer")),
            subscription_id=stripe_id_of(data.get("subscription")),
            payment_status=data.get("payment_status") or "",
            payment_intent_id=stripe_id_of(data.get("payment_intent")),
            amount_total=data.get("amount_total"),
            currency=data.get("currency") or "",
            email=details.get("email") or data.get("customer_email") or "",
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        )

    @property
    def is_complete(self) -> bool:
        return self.status == "complete"

    @property
    def is_paid(self) -> bool:
        """Whether the money is in: paid, or nothing was due (a 100% discount)."""
        return self.is_complete and self.payment_status in ("paid", "no_payment_required")

    @property
    def kind(self) -> str:
        """What a one-time payment buys (Masthead's ``kind`` in the metadata)."""
        return self.metadata.get("kind", "")

    @property
    def user_id(self) -> int | None:
        """The Masthead reader who opened it (``client_reference_id``)."""
        ref = self.client_reference_id
        return int(ref) if ref.isdigit() else None


@dataclass(frozen=True)
class StripeCharge:
    """A payment's charge; ``refunded`` once all of it went back."""

    id: str
    payment_intent_id: str
    amount: int
    amount_refunded: int
    refunded: bool
    metadata: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeCharge":
        return cls(
            id=str(data.get("id", "")),
            payment_intent_id=stripe_id_of(data.get("payment_intent")),
            amount=int(data.get("amount") or 0),
            amount_refunded=int(data.get("amount_refunded") or 0),
            refunded=bool(data.get("refunded")),
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        )


@dataclass(frozen=True)
class StripeCoupon:
    id: str
    valid: bool
    times_redeemed: int

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeCoupon":
        return cls(
            id=str(data.get("id", "")),
            valid=bool(data.get("valid")),
            times_redeemed=int(data.get("times_redeemed") or 0),
        )


@dataclass(frozen=True)
class StripePromotionCode:
    id: str
    code: str
    active: bool
    times_redeemed: int
    coupon_id: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripePromotionCode":
        promotion = data.get("promotion") or {}
        return cls(
            id=str(data.get("id", "")),
            code=data.get("code") or "",
            active=bool(data.get("active")),
            times_redeemed=int(data.get("times_redeemed") or 0),
            coupon_id=stripe_id_of(promotion.get("coupon") or data.get("coupon")),
        )


@dataclass(frozen=True)
class StripeDiscount:
    """A discount on a subscription: its coupon's terms and when it ends (None: never, or
    after the next invoice for a ``once`` coupon)."""

    coupon_id: str
    promotion_code_id: str
    name: str
    percent_off: float | None
    amount_off: int | None
    currency: str
    duration: str  # once, repeating, forever
    duration_in_months: int | None
    end: datetime | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeDiscount":
        source = data.get("source") or {}
        coupon = source.get("coupon") or data.get("coupon") or {}
        terms = coupon if isinstance(coupon, dict) else {}
        return cls(
            coupon_id=stripe_id_of(coupon),
            promotion_code_id=stripe_id_of(data.get("promotion_code")),
            name=terms.get("name") or "",
            percent_off=terms.get("percent_off"),
            amount_off=terms.get("amount_off"),
            currency=terms.get("currency") or "",
            duration=terms.get("duration") or "",
            duration_in_months=terms.get("duration_in_months"),
            end=moment(data.get("end")),
        )


@dataclass(frozen=True)
class StripePortalSession:
    id: str
    url: str
    data: dict[str, Any] = field(repr=False, compare=False)  # Stripe's whole object

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripePortalSession":
        return cls(id=str(data["id"]), url=data.get("url") or "", data=data)


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    status: str
    hosted_invoice_url: str
    subscription_id: str
    attempt_count: int | None
    # When it was finalised (first asked to be paid), else created.
    issued_at: datetime | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeInvoice":
        # The subscription it bills: ``parent.subscription_details`` in current API
        # versions, ``subscription`` in older ones.
        details = (data.get("parent") or {}).get("subscription_details") or {}
        transitions = data.get("status_transitions") or {}
        return cls(
            id=str(data.get("id") or ""),
            status=data.get("status") or "",
            hosted_invoice_url=data.get("hosted_invoice_url") or "",
            subscription_id=stripe_id_of(details.get("subscription") or data.get("subscription")),
            attempt_count=data.get("attempt_count"),
            issued_at=moment(transitions.get("finalized_at") or data.get("created")),
        )

    @property
    def is_open(self) -> bool:
        """Whether it waits to be paid."""
        return self.status == "open"


@dataclass(frozen=True)
class StripeSubscription:
    """A subscription as Stripe has it; ``data`` is Stripe's whole object, kept as the
    stored copy (``Subscription.data``) for the admin."""

    id: str
    customer_id: str
    user_id: int | None  # the reader named in the metadata
    status: str
    item_id: str
    price: StripePrice
    quantity: int  # of the first item: the seats of a plan sold by seat
    current_period_end: datetime | None
    trial_end: datetime | None
    cancel_at: datetime | None
    cancel_at_period_end: bool
    ended_at: datetime | None
    created: int  # Stripe's second, 0 when unknown: orders two subscriptions
    started_at: datetime | None
    default_payment_method_id: str
    latest_invoice_id: str
    latest_invoice: StripeInvoice | None  # when Stripe sent it expanded
    data: dict[str, Any] = field(repr=False, compare=False)

    @property
    def discounts(self) -> list[StripeDiscount]:
        """The discounts Stripe sent expanded (ids alone are skipped)."""
        found = self.data.get("discounts") or []
        return [StripeDiscount.from_api(d) for d in found if isinstance(d, dict)]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "StripeSubscription":
        item = first_item(data)
        latest = data.get("latest_invoice")
        return cls(
            id=str(data.get("id", "")),
            customer_id=stripe_id_of(data.get("customer")),
            user_id=_metadata_id(data, "user_id"),
            status=data.get("status") or "incomplete",
            item_id=str(item.get("id") or ""),
            price=StripePrice.from_api(item.get("price") or {}),
            quantity=int(item.get("quantity") or 1),
            current_period_end=moment(item.get("current_period_end")),
            trial_end=moment(data.get("trial_end")),
            cancel_at=moment(data.get("cancel_at")),
            cancel_at_period_end=bool(data.get("cancel_at_period_end")),
            ended_at=moment(data.get("ended_at")),
            created=data.get("created") or 0,
            started_at=moment(data.get("start_date") or data.get("created")),
            default_payment_method_id=stripe_id_of(data.get("default_payment_method")),
            latest_invoice_id=stripe_id_of(latest),
            latest_invoice=StripeInvoice.from_api(latest) if isinstance(latest, dict) else None,
            data=data,
        )


@dataclass(frozen=True)
class StripeEvent:
    """A webhook event; ``payload`` is the whole event as Stripe sent it (stored as is).

    Only the envelope is read when it is built (a verified body may carry anything else);
    the object is read when a handler asks for it."""

    id: str
    type: str
    api_version: str
    livemode: bool
    payload: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, payload: dict[str, Any]) -> "StripeEvent":
        return cls(
            id=str(payload["id"]),
            type=payload.get("type") or "",
            api_version=payload.get("api_version") or "",
            livemode=bool(payload.get("livemode")),
            payload=payload,
        )

    @property
    def object(self) -> dict[str, Any]:
        """The object the event is about, as it was when the event happened."""
        obj: dict[str, Any] = self.payload["data"]["object"]
        return obj

    @property
    def object_id(self) -> str:
        return str(self.object["id"])

    @property
    def card_replaced(self) -> bool:
        """Whether this subscription change replaced its default card."""
        previous = self.payload["data"].get("previous_attributes") or {}
        return "default_payment_method" in previous

    def checkout_session(self) -> StripeCheckoutSession:
        return StripeCheckoutSession.from_api(self.object)

    def invoice(self) -> StripeInvoice:
        return StripeInvoice.from_api(self.object)

    def charge(self) -> StripeCharge:
        return StripeCharge.from_api(self.object)
