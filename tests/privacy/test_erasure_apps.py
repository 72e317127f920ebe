"""Export and erasure across every app that keeps a reader's data: the meter, gift links,
one-time payments and gift memberships, groups, credits, the publishers' ledger and the
app stores. Rows are made directly, as each app's services would leave them."""

import json
import uuid
import zipfile
from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appstores.models import StoreNotification, StoreSubscription
from billing.models import OneTimePayment
from gifts.models import Gift
from groups.models import Group, GroupMember
from membership.models import (
    AppAccount,
    CreditAccount,
    CreditPurchase,
    GiftLink,
    GiftLinkOpen,
    MeterCount,
    MeterRead,
)
from privacy.registry.privacy import export_path
from privacy.services import (
    data_export_build,
    data_export_request,
    erasure_request,
    erasure_run,
)
from publishers.models import ReadRow
from tests.factories import PASSWORD, ArticleFactory, PlanFactory, UserFactory
from tests.privacy.conftest import rich_reader

pytestmark = pytest.mark.django_db(transaction=True)


def everywhere(reader, other):  # type: ignore[no-untyped-def]
    """Give the reader rows in every app; ``other`` is another reader they deal with."""
    user = reader.user
    article = ArticleFactory()
    plan = PlanFactory()
    now = timezone.now()
    MeterRead.objects.create(subject=f"user:{user.pk}", article=article, month=date(2026, 12, 1))
    MeterCount.objects.create(subject=f"user:{user.pk}", month=date(2026, 12, 1), used=1)
    link = GiftLink.objects.create(
        giver=user, article=article, token_hash="a" * 64, salt="s", expires_at=now
    )
    others_link = GiftLink.objects.create(
        giver=other, article=article, token_hash="b" * 64, salt="s", expires_at=now
    )
    GiftLinkOpen.objects.create(link=others_link, opener=f"reader:{user.pk}", reader=user)
    payment = OneTimePayment.objects.create(
        checkout_session_id="cs_gift",
        kind="gift",
        user=user,
        metadata={"buyer_email": reader.email, "note": reader.name},
    )
    Gift.objects.create(
        payment=payment,
        buyer=user,
        plan=plan,
        months=3,
        recipient_email="friend@example.org",
        message=f"Love from {reader.name}",
        code_salt="x",
        code_hash="c" * 64,
        code_hint="ABCD",
        redeemable_until=now + timedelta(days=365),
    )
    group = Group.objects.create(owner=other, seats=3)
    GroupMember.objects.create(group=group, email=reader.email, user=user, token_hash="d" * 64)
    CreditAccount.objects.create(user=user, balance=2)
    CreditPurchase.objects.create(
        user=user,
        reference="r1",
        payment_ref="pi_1",
        pack="5 articles",
        credits=5,
        credits_left=2,
    )
    ReadRow.objects.create(
        user=user,
        article=article,
        title=article.title,
        day=date(2026, 12, 1),
        source="trial",
        seconds=120,
    )
    token = uuid.uuid4()
    AppAccount.objects.create(user=user, token=token)
    StoreSubscription.objects.create(
        store="apple",
        external_id="2000000012345",
        user=user,
        app_account_token=token,
        data={"appAccountToken": str(token), "email": reader.email},
        synced_at=now,
    )
    StoreNotification.objects.create(
        store="apple",
        notification_id="n-1",
        type="DID_RENEW",
        external_id="2000000012345",
        payload={"data": {"appAccountToken": str(token)}},
    )
    return link


def test_the_export_holds_the_readers_rows_of_every_app(sandbox_api):
    reader = rich_reader()
    everywhere(reader, UserFactory())

    export = data_export_build(export_id=data_export_request(user=reader.user).pk)

    with zipfile.ZipFile(export_path(export.file_name)) as archive:
        files = {n: json.loads(archive.read(n)) for n in archive.namelist() if n.endswith("json")}
    for name in (
        "metered_reads.json",
        "metered_counts.json",
        "gift_links.json",
        "gift_links_opened.json",
        "one_time_payments.json",
        "gifts.json",
        "group_memberships.json",
        "credit_balance.json",
        "credit_purchases.json",
        "reads.json",
        "store_subscriptions.json",
        "store_notifications.json",
        "app_account.json",
    ):
        assert len(files[name]) == 1, name
    assert files["groups_owned.json"] == []
    assert files["gifts.json"][0]["recipient_email"] == "friend@example.org"


def test_erasure_reaches_every_app_and_keeps_the_ledgers(sandbox_api, dump):
    reader = rich_reader()
    other = UserFactory()
    link = everywhere(reader, other)
    user = reader.user

    request = erasure_request(user=user)
    assert erasure_run(request_id=request.pk) == "done"

    text = dump()
    assert reader.email not in text and reader.name not in text
    assert not MeterRead.objects.filter(subject=f"user:{user.pk}").exists()
    assert not MeterCount.objects.exists()
    assert not GiftLink.objects.filter(pk=link.pk).exists()
    opened = GiftLinkOpen.objects.get()
    assert opened.reader is None and opened.opener.startswith("erased:")
    payment = OneTimePayment.objects.get()
    assert payment.user is None and payment.metadata["buyer_email"] == "[erased]"
    gift = Gift.objects.get()
    assert gift.buyer is None and gift.message == ""
    assert gift.recipient_email == "friend@example.org"  # the friend's, not the reader's
    assert not GroupMember.objects.exists()
    assert Group.objects.get().owner == other
    # The ledger stays on the empty account: the publishers' statements never change.
    assert ReadRow.objects.get().user_id == user.pk
    assert CreditPurchase.objects.get().credits == 5
    assert not AppAccount.objects.exists()
    store = StoreSubscription.objects.get()
    assert store.user is None and store.app_account_token is None
    assert store.data["appAccountToken"] is None
    assert StoreNotification.objects.get().payload["data"]["appAccountToken"] is None
    request.refresh_from_db()
    assert request.erased["groups.GroupMember"] == 1


def test_a_store_subscriber_is_told_to_cancel_in_the_store(sandbox_api):
    reader = rich_reader()
    everywhere(reader, UserFactory())
    client = APIClient()
    client.force_login(reader.user)

    response = client.post("/api/v1/me/delete/", {"password": PASSWORD}, format="json")

    assert response.status_code == 202
    [notice] = response.json()["notices"]
    assert "App Store or Google Play" in notice and "cancel" in notice
    assert "App Store or Google Play" in " ".join(reader.user.erasure_requests.get().audit.notes)
