"""Writes of the app stores: apply a store subscription's newest state (and with it the
reader's entitlement, through membership's services), link a purchase to a reader, flag a
double payment.

The stores are called before any transaction opens; the state fetched is applied under the
subscription's row lock, and only when it was fetched after the state applied last, so
notifications delivered twice or out of order change nothing twice and never go backwards.
"""

import logging
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from appstores.errors import StoreError, StoreErrorCode
from appstores.gateways import apple as apple_gateway
from appstores.gateways import google as google_gateway
from appstores.models import (
    Store,
    StoreProduct,
    StoreSubscription,
    StoreSubscriptionEvent,
    StoreSubscriptionStatus,
)
from appstores.states import StoreState, apple_state, google_state
from membership.emails import email_build
from membership.models import EntitlementSource, Plan
from membership.services import entitlement_sync, outbox_add
from membership.services.app_accounts import app_account_token_get
from membership.store_selectors import (
    STORE_MANAGE_URLS,
    STORE_NAMES,
    app_account_reader_get,
    web_subscription_live,
)

logger = logging.getLogger(__name__)

ACCOUNT_PATH = "/account/"


def _event(row: StoreSubscription, kind: str, **data: Any) -> None:
    StoreSubscriptionEvent.objects.create(subscription=row, kind=kind, data=data)


def _row_for_update(*, store: str, external_id: str) -> StoreSubscription:
    """The subscription's row, made the first time, locked until the transaction ends."""
    StoreSubscription.objects.get_or_create(store=store, external_id=external_id)
    return StoreSubscription.objects.select_for_update().get(store=store, external_id=external_id)


def _plan(store: str, product_id: str) -> Plan | None:
    product = StoreProduct.objects.select_related("plan").filter(store=store, product_id=product_id)
    found = product.first()
    if found is None and product_id:
        logger.warning(
            "No plan is mapped to %s product %s; it covers every title", store, product_id
        )
    return None if found is None else found.plan


def _token_owner(token: str | None) -> User | None:
    return None if not token else app_account_reader_get(token=token)


def _double_payment_flag(row: StoreSubscription, owner: User) -> None:
    """Flag a store subscription bought while the reader pays on the website, once, and tell
    the reader (one email per subscription)."""
    row.double_payment_at = timezone.now()
    _event(row, StoreSubscriptionEvent.Kind.DOUBLE_PAYMENT)
    logger.warning(
        "Reader %s pays twice: on the website and in %s (%s)", owner.pk, row.store, row.pk
    )
    if not owner.email:
        return
    source = EntitlementSource(row.store)
    message = email_build(
        template="appstores/email/double_payment",
        to=owner.email,
        context={
            "store_name": STORE_NAMES[source],
            "manage_url": STORE_MANAGE_URLS[source],
            "account_url": settings.SITE_URL + ACCOUNT_PATH,
        },
    )
    outbox_add(
        kind="store_double_payment",
        object_ref=f"store_subscription:{row.pk}",
        fact="double_payment",
        message=message,
        user=owner,
    )


@transaction.atomic
def store_state_apply(
    *, state: StoreState, fetched_at: datetime, reader: User | None = None
) -> StoreSubscription:
    """Make Masthead's mirror of the subscription, and the reader's access from it, match the
    state fetched at ``fetched_at``; a state older than the one applied last is not applied.

    ``reader`` links the subscription to them (the app's request); a subscription linked to
    someone else is refused with ``purchase_of_another_reader`` (409). Otherwise the reader is
    the one linked before, or the one whose ``app_account_token`` the store reports."""
    row = _row_for_update(store=state.store, external_id=state.external_id)
    if reader is not None and row.user_id is not None and row.user_id != reader.pk:
        raise StoreError(
            code=StoreErrorCode.OTHER_READER,
            message="This purchase belongs to another Masthead account.",
            status=409,
        )
    owner = row.user or reader or _token_owner(state.app_account_token)
    if owner is not None and row.user_id is None:
        row.user = owner
        _event(row, StoreSubscriptionEvent.Kind.LINKED, user=owner.pk)
    if row.synced_at is not None and fetched_at < row.synced_at:
        logger.info("A newer state of %s was applied already; skipping this one", row)
        row.save(update_fields=["user"])
        return row
    before = row.status, row.access_until
    row.product_id = state.product_id
    row.plan = _plan(state.store, state.product_id)
    # Google reports a revoked purchase as expired: a later notification keeps the revocation.
    kept = row.status == StoreSubscriptionStatus.REVOKED and state.access_until is None
    row.status = StoreSubscriptionStatus.REVOKED if kept else state.status
    row.access_until = state.access_until
    row.expires_at, row.grace_until = state.expires_at, state.grace_until
    revoked = row.status == StoreSubscriptionStatus.REVOKED
    row.revoked_at = state.revoked_at or (row.revoked_at or timezone.now() if revoked else None)
    row.auto_renew, row.auto_renew_product_id = state.auto_renew, state.auto_renew_product_id
    row.environment, row.latest_transaction_id = state.environment, state.latest_transaction_id
    if state.app_account_token:
        row.app_account_token = uuid.UUID(state.app_account_token)
    row.data, row.synced_at = state.data, fetched_at
    if owner is not None:
        plan = row.plan
        entitlement_sync(
            user=owner,
            source=row.store,
            reference=row.entitlement_reference,
            ends_at=state.access_until,
            titles=None if plan is None or plan.all_titles else list(plan.titles.all()),
        )
        live = state.access_until is not None and state.access_until > timezone.now()
        if live and row.double_payment_at is None and web_subscription_live(user=owner):
            _double_payment_flag(row, owner)
    row.save()
    if before != (row.status, row.access_until):
        _event(
            row,
            StoreSubscriptionEvent.Kind.APPLIED,
            status=row.status,
            access_until=row.access_until.isoformat() if row.access_until else None,
        )
    logger.info("Applied %s: %s, access until %s", row, row.status, row.access_until)
    return row


# Apple ------------------------------------------------------------------------------------
def apple_subscription_refresh(
    *, transaction_id: str, reader: User | None = None
) -> StoreSubscription:
    """Fetch the subscription's newest state from the App Store Server API and apply it."""
    fetched_at = timezone.now()
    status = apple_gateway.subscription_status_fetch(transaction_id=transaction_id)
    return store_state_apply(state=apple_state(status), fetched_at=fetched_at, reader=reader)


def _token_check(*, reader: User, token: str | None) -> None:
    if token and str(app_account_token_get(user=reader)) != str(token).lower():
        raise StoreError(
            code=StoreErrorCode.OTHER_READER,
            message="This purchase was made for another Masthead account.",
            status=403,
        )


def apple_transaction_link(*, reader: User, signed_transaction: str) -> StoreSubscription:
    """Link a purchase the app made to the signed-in reader and apply it at once.

    The transaction must verify (Apple's signature, this app, Masthead's environment); a
    transaction carrying another reader's ``appAccountToken`` is refused (403)."""
    verified = apple_gateway.transaction_verify(signed_transaction=signed_transaction)
    _token_check(reader=reader, token=verified.app_account_token)
    return apple_subscription_refresh(
        transaction_id=verified.original_transaction_id, reader=reader
    )


# Google -----------------------------------------------------------------------------------
def _replaced_mark(*, old_token: str, new_token: str) -> User | None:
    """End the access of a purchase replaced by ``new_token`` (an upgrade, a resubscription);
    return its reader, who carries over to the new purchase."""
    with transaction.atomic():
        old = (
            StoreSubscription.objects.select_for_update()
            .filter(store=Store.GOOGLE, external_id=old_token)
            .first()
        )
        if old is None:
            return None
        if old.status != StoreSubscriptionStatus.REPLACED:
            old.status, old.access_until = StoreSubscriptionStatus.REPLACED, None
            old.save(update_fields=["status", "access_until"])
            _event(old, StoreSubscriptionEvent.Kind.REPLACED, by=new_token[:40])
            if old.user is not None:
                entitlement_sync(
                    user=old.user,
                    source=old.store,
                    reference=old.entitlement_reference,
                    ends_at=None,
                )
        return old.user


def _acknowledge(row: StoreSubscription, purchase: google_gateway.GooglePurchase) -> None:
    """Acknowledge a new purchase (outside any transaction) and record it."""
    if purchase.acknowledged or row.access_until is None:
        return
    google_gateway.purchase_acknowledge(
        product_id=purchase.product_id, purchase_token=purchase.purchase_token
    )
    if StoreSubscription.objects.filter(pk=row.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now()
    ):
        _event(row, StoreSubscriptionEvent.Kind.ACKNOWLEDGED)


def google_purchase_refresh(
    *,
    purchase_token: str,
    reader: User | None = None,
    product_id: str = "",
    revoked: bool = False,
) -> StoreSubscription:
    """Fetch the purchase's newest state (``subscriptionsv2.get``) and apply it; follow
    ``linkedPurchaseToken`` (the replaced purchase's access ends, its reader carries over);
    acknowledge a new purchase. ``product_id``: the product the app says it bought."""
    fetched_at = timezone.now()
    purchase = google_gateway.purchase_fetch(purchase_token=purchase_token)
    if product_id and purchase.product_id != product_id:
        raise StoreError(
            code=StoreErrorCode.PRODUCT_MISMATCH,
            message="The purchase is of another product.",
            status=400,
        )
    if reader is not None:
        _token_check(reader=reader, token=purchase.account_id or None)
    carried = None
    if purchase.linked_purchase_token:
        carried = _replaced_mark(old_token=purchase.linked_purchase_token, new_token=purchase_token)
    row = store_state_apply(
        state=google_state(purchase, revoked=revoked),
        fetched_at=fetched_at,
        reader=reader or carried,
    )
    if purchase.linked_purchase_token:
        StoreSubscription.objects.filter(
            store=Store.GOOGLE, external_id=purchase.linked_purchase_token, replaced_by=None
        ).update(replaced_by=row)
    _acknowledge(row, purchase)
    return row


def google_purchase_link(
    *, reader: User, purchase_token: str, product_id: str
) -> StoreSubscription:
    """Link a Google Play purchase the app made to the signed-in reader and apply it at once;
    the purchase's obfuscated account id must be the reader's ``app_account_token``."""
    return google_purchase_refresh(
        purchase_token=purchase_token, reader=reader, product_id=product_id
    )


def store_subscription_refresh(*, subscription: StoreSubscription) -> StoreSubscription:
    """Fetch and apply the newest state of a stored subscription (reconciliation, admin)."""
    if subscription.store == Store.APPLE:
        return apple_subscription_refresh(transaction_id=subscription.external_id)
    return google_purchase_refresh(purchase_token=subscription.external_id)
