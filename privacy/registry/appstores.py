"""App Store and Google Play: the reader's store link is removed (Masthead cannot cancel a
store subscription; the reader is told to cancel it in the store), the store's state and
notifications are kept for idempotency, scrubbed."""

from typing import Any

from django.db.models import QuerySet

from appstores.models import StoreNotification, StoreSubscription
from privacy.registry.base import Erase, PersonalData, Reader
from privacy.scrub import json_scrub

STORE_NOTICE = (
    "You pay for Masthead through the App Store or Google Play. Deleting your account cannot "
    "cancel that subscription: cancel it in your phone's subscription settings (App Store: "
    "Settings, your name, Subscriptions; Google Play: Play Store, Payments and subscriptions), "
    "or the store keeps charging you."
)
# The store's own ids of the reader's account, in decoded store payloads.
STORE_ACCOUNT_KEYS = frozenset(
    {"appAccountToken", "app_account_token", "obfuscatedExternalAccountId", "obfuscatedAccountId"}
)


def _scrub(value: Any, reader: Reader) -> Any:
    scrubbed = json_scrub(value, needles=reader.needles)
    return _drop_keys(scrubbed)


def _drop_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (None if k in STORE_ACCOUNT_KEYS else _drop_keys(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_keys(v) for v in value]
    return value


def _external_ids(reader: Reader) -> list[str]:
    return list(
        StoreSubscription.objects.filter(user_id=reader.user_id).values_list(
            "external_id", flat=True
        )
    )


def notifications_of(reader: Reader) -> QuerySet[StoreNotification]:
    return StoreNotification.objects.filter(external_id__in=_external_ids(reader))


def store_subscriptions_of(reader: Reader) -> QuerySet[StoreSubscription]:
    return StoreSubscription.objects.filter(user_id=reader.user_id)


ENTRIES = [
    PersonalData(
        model="appstores.StoreNotification",
        what="The stores' notifications about the reader's subscriptions; kept for "
        "idempotency, scrubbed of the reader's store account ids",
        erase=Erase.SCRUB,
        rows=notifications_of,
        scrub={"payload": lambda row, reader: _scrub(row.payload, reader)},
        export_as="store_notifications.json",
        export_fields=("store", "type", "subtype", "received_at", "payload"),
    ),
    PersonalData(
        model="appstores.StoreSubscriptionEvent",
        what="The history of the reader's store subscriptions",
        erase=Erase.SCRUB,
        reader="subscription__user",
        scrub={"data": lambda row, reader: _scrub(row.data, reader)},
        export_as="store_subscription_events.json",
    ),
    PersonalData(
        model="appstores.StoreSubscription",
        what="The reader's App Store and Google Play subscriptions; unlinked from the reader "
        "(Masthead cannot cancel them), kept as records",
        erase=Erase.SCRUB,
        rows=store_subscriptions_of,
        scrub={
            "data": lambda row, reader: _scrub(row.data, reader),
            "app_account_token": None,
        },
        detach=("user",),
        notice=STORE_NOTICE,
        export_as="store_subscriptions.json",
        export_fields=(
            "store",
            "product_id",
            "status",
            "expires_at",
            "auto_renew",
            "created_at",
            "data",
        ),
    ),
    PersonalData(
        model="membership.AppAccount",
        what="The reader's opaque id for the app stores (the link their purchases carry)",
        erase=Erase.DELETE,
        export_as="app_account.json",
        export_fields=("token", "created_at"),
    ),
]
