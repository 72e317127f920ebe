"""Plans at Stripe: each plan's product with its monthly and yearly prices, and the Customer
Portal's list of plans a reader may switch between.

Every push compares with what Stripe has now and changes only what differs, so pushing
twice changes nothing. Stripe prices never change: a new amount is a new price, and the
old one is taken off sale (subscriptions already on it keep it).
"""

import logging

from django.conf import settings
from django.utils import timezone

from billing import stripe_gateway
from billing.emails import ACCOUNT_PATH
from billing.errors import BillingError
from billing.models import PlanPrices, PortalConfiguration, SyncStatus
from billing.stripe_gateway import StripePortalConfiguration, StripePrice, StripeProduct
from billing.stripe_gateway.resources import PortalProduct
from membership.models import Plan

logger = logging.getLogger(__name__)

INTERVALS = ("month", "year")


def _amount(plan: Plan, interval: str) -> int:
    return plan.monthly_amount if interval == "month" else plan.yearly_amount


def _revision() -> str:
    """A token for this push's updates: Stripe replays a request whose idempotency key it
    has seen, so a later update that restores earlier values needs a key of its own."""
    return f"push:{timezone.now().timestamp():.6f}"


def _product_push(*, plan: Plan, product_id: str, revision: str) -> StripeProduct:
    """Return the plan's product, created or updated to match the plan."""
    if not product_id:
        return stripe_gateway.product_create(
            plan_id=plan.pk, name=plan.name, description=plan.description
        )
    product = stripe_gateway.product_retrieve(product_id=product_id)
    current = (product.name, product.description, product.active, product.plan_ref)
    if current == (plan.name, plan.description, plan.is_active, str(plan.pk)):
        return product
    logger.info("Updating Stripe product %s of plan %s", product_id, plan.pk)
    return stripe_gateway.product_update(
        product_id=product_id,
        plan_id=plan.pk,
        name=plan.name,
        description=plan.description,
        active=plan.is_active,
        revision=revision,
    )


def _price_push(
    *, plan: Plan, product_id: str, interval: str, prices: list[StripePrice], revision: str
) -> StripePrice | None:
    """Return the price on sale for the plan's amount at ``interval`` (None when the plan
    is off sale), and take every other price of that interval off sale."""
    mine = [p for p in prices if p.interval == interval]
    wanted: StripePrice | None = None
    if plan.is_active:
        same = [
            p
            for p in mine
            if p.unit_amount == _amount(plan, interval)
            and p.currency == plan.currency.lower()
            and p.plan_ref == str(plan.pk)
        ]
        same.sort(key=lambda p: not p.active)  # one already on sale first
        if same:
            wanted = same[0]
            if not wanted.active:
                logger.info("Putting price %s of plan %s back on sale", wanted.id, plan.pk)
                wanted = stripe_gateway.price_active_set(
                    price_id=wanted.id, active=True, revision=revision
                )
        else:
            wanted = stripe_gateway.price_create(
                product_id=product_id,
                plan_id=plan.pk,
                amount=_amount(plan, interval),
                currency=plan.currency.lower(),
                interval=interval,
            )
            logger.info("Created %s price %s of plan %s", interval, wanted.id, plan.pk)
    for price in mine:
        if price.active and (wanted is None or price.id != wanted.id):
            stripe_gateway.price_active_set(price_id=price.id, active=False, revision=revision)
            logger.info("Took price %s of plan %s off sale", price.id, plan.pk)
    return wanted


def _record_failure(*, record: PlanPrices, step: str, exc: BillingError) -> None:
    record.status = SyncStatus.FAILED
    record.last_error = f"{step}: {exc.message} ({exc.code})"
    record.save(update_fields=["product_id", "status", "last_error"])
    logger.warning("Pushing plan %s to Stripe failed at %s: %s", record.plan_id, step, exc.code)


def plan_push(*, plan_id: int) -> PlanPrices:
    """Make the plan's Stripe product and monthly and yearly prices match the plan, record
    their ids on its ``PlanPrices`` (synced), then refresh the portal's plan list.

    Stripe's refusal is recorded on the ``PlanPrices`` (failed, with the error) and raised
    as ``BillingError``. Call outside any transaction: it talks to Stripe.
    """
    plan = Plan.objects.get(pk=plan_id)
    record, _ = PlanPrices.objects.get_or_create(plan=plan)
    chosen: dict[str, StripePrice | None] = dict.fromkeys(INTERVALS)
    if plan.is_active or record.product_id:  # an off-sale plan never pushed has nothing there
        revision = _revision()
        step = f"product {record.product_id or '(new)'}"
        try:
            product = _product_push(plan=plan, product_id=record.product_id, revision=revision)
            record.product_id = product.id
            step = f"prices of product {record.product_id}"
            prices = stripe_gateway.prices_list(product_id=record.product_id)
            for interval in INTERVALS:
                chosen[interval] = _price_push(
                    plan=plan,
                    product_id=record.product_id,
                    interval=interval,
                    prices=prices,
                    revision=revision,
                )
        except BillingError as exc:
            _record_failure(record=record, step=step, exc=exc)
            raise
    monthly, yearly = chosen["month"], chosen["year"]
    record.monthly_price_id = monthly.id if monthly else ""
    record.yearly_price_id = yearly.id if yearly else ""
    record.monthly_amount = monthly.unit_amount if monthly else None
    record.yearly_amount = yearly.unit_amount if yearly else None
    record.currency = plan.currency.lower() if plan.is_active else ""
    record.status = SyncStatus.SYNCED
    record.last_error = ""
    record.synced_at = timezone.now()
    record.save()
    logger.info(
        "Plan %s is in step with Stripe: product %s, prices %s / %s",
        plan.pk,
        record.product_id,
        record.monthly_price_id or "-",
        record.yearly_price_id or "-",
    )
    portal_configuration_push()
    return record


def _portal_products() -> list[PortalProduct]:
    """The synced plans on sale for the portal's plan switches: (product, its prices, the
    seats a reader may choose for a plan sold by seat)."""
    rows = (
        PlanPrices.objects.filter(plan__is_active=True, status=SyncStatus.SYNCED)
        .exclude(product_id="")
        .select_related("plan")
        .order_by("plan__display_order", "plan__monthly_amount", "plan_id")
    )
    products = []
    for row in rows:
        prices = [price for price in (row.monthly_price_id, row.yearly_price_id) if price]
        plan = row.plan
        seats = (plan.min_seats, plan.max_seats) if plan.by_seat else None
        if prices:
            products.append((row.product_id, prices, seats))
    return products


def _portal_matches(
    configuration: StripePortalConfiguration, products: list[PortalProduct]
) -> bool:
    wanted = {(product, frozenset(prices), seats) for product, prices, seats in products}
    return (
        configuration.switch_products == wanted
        and configuration.switch_enabled == bool(products)
        and configuration.default_return_url == settings.SITE_URL + ACCOUNT_PATH
    )


def portal_configuration_push() -> PortalConfiguration:
    """Make the Customer Portal's configuration at Stripe list every synced plan on sale
    with its prices, so a reader can switch plans there; store its id."""
    row = PortalConfiguration.objects.order_by("pk").first() or PortalConfiguration()
    products = _portal_products()
    if row.stripe_id:
        current = stripe_gateway.portal_configuration_retrieve(configuration_id=row.stripe_id)
        if _portal_matches(current, products):
            return row
    saved = stripe_gateway.portal_configuration_save(
        configuration_id=row.stripe_id,
        products=products,
        return_url=settings.SITE_URL + ACCOUNT_PATH,
        revision=_revision(),
    )
    row.stripe_id = saved.id
    row.products = stripe_gateway.portal_products_param(products)
    row.synced_at = timezone.now()
    row.save()
    logger.info("Customer Portal configuration %s lists %s plans", row.stripe_id, len(products))
    return row


def portal_configuration_id() -> str:
    """Return the id of Masthead's Customer Portal configuration, or "" before the first push."""
    row = PortalConfiguration.objects.order_by("pk").first()
    return row.stripe_id if row else ""


def plan_prices_mark_pending(*, plan_id: int) -> PlanPrices:
    """Mark the plan as waiting to be pushed to Stripe (its ids stay until the push)."""
    record, _ = PlanPrices.objects.get_or_create(plan_id=plan_id)
    record.status = SyncStatus.PENDING
    record.save(update_fields=["status"])
    return record
