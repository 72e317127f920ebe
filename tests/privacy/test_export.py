"""The export's contents (Masthead's rows and what Stripe holds), its expiry, and staff
starting one from the admin."""

import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from privacy.models import DataExport, ExportStatus
from privacy.registry.privacy import export_path
from privacy.services import data_export_build, data_export_request
from privacy.tasks import exports_clean
from tests.billing.paying import plan_on_sale, subscribe
from tests.factories import UserFactory
from tests.privacy.conftest import NAME, rich_reader

pytestmark = pytest.mark.django_db(transaction=True)


def export_of(user) -> dict:  # type: ignore[no-untyped-def]
    export = data_export_request(user=user)
    export = data_export_build(export_id=export.pk)
    assert export.status == ExportStatus.READY
    with zipfile.ZipFile(export_path(export.file_name)) as archive:
        return {
            name: (json.loads(archive.read(name)) if name.endswith(".json") else archive.read(name))
            for name in archive.namelist()
        }


def test_the_export_holds_every_kind_of_the_readers_data_and_only_theirs(sandbox_api):
    reader = rich_reader()
    other = rich_reader("someone.else@example.org")
    subscription = subscribe(sandbox_api.client(), reader.user, plan_on_sale())

    files = export_of(reader.user)

    assert files["account.json"] == [
        {
            "email": reader.email,
            "full_name": NAME,
            "date_joined": files["account.json"][0]["date_joined"],
            "last_login": files["account.json"][0]["last_login"],
            "trial_used_at": files["account.json"][0]["trial_used_at"],
            "is_active": True,
        }
    ]
    assert files["email_addresses.json"] == [
        {"email": reader.email, "verified": True, "primary": True}
    ]
    assert files["sign_in_history.json"][0]["last_sign_in"]
    assert len(files["sign_in_history.json"]) == 2  # the account's dates and one session
    assert [t["kind"] for t in files["trials.json"]] == ["cardless"]
    assert {e["source"] for e in files["entitlements.json"]} == {"trial", "comp", "subscription"}
    assert any(e["kind"] == "granted" for e in files["entitlement_events.json"])
    assert [m["kind"] for m in files["emails_sent.json"]] == ["trial_reminder"]
    assert files["emails_sent.json"][0]["to"] == reader.email
    assert [s["stripe_id"] for s in files["subscriptions.json"]] == [subscription.stripe_id]
    stored_events = files["invoices_and_payments_as_stored.json"]
    assert [e["stripe_id"] for e in stored_events] == [f"evt_rich_{reader.user.pk}"]
    assert files["stripe_customer.json"][0]["id"] == subscription.customer_stripe_id
    assert files["stripe_customer.json"][0]["email"] == reader.email
    assert [s["id"] for s in files["stripe_subscriptions.json"]] == [subscription.stripe_id]
    assert files["stripe_invoices.json"][0]["status"] == "paid"
    assert b"account.json" in files["README.txt"]
    assert other.email not in json.dumps({k: v for k, v in files.items() if k != "README.txt"})


def test_an_export_expires_after_seven_days_and_its_file_is_deleted(reader):
    export = data_export_build(export_id=data_export_request(user=reader).pk)
    path = export_path(export.file_name)
    browser = Client()
    browser.force_login(reader)
    url = f"/account/data/{export.pk}/download/"
    assert path.exists()

    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert exports_clean() == 0
        assert browser.get(url).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert exports_clean() == 1
        assert browser.get(url).status_code == 404

    assert not path.exists()
    assert DataExport.objects.get(pk=export.pk).status == ExportStatus.EXPIRED


def test_staff_start_an_export_for_a_member_from_the_admin(admin_client, admin_user):
    member = UserFactory()
    data_export_request(user=member)  # the member's own, today: staff are not limited

    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "members_export", "_selected_action": [member.pk]},
        follow=True,
    )

    assert response.status_code == 200
    latest = DataExport.objects.filter(user=member).first()
    assert latest is not None and latest.requested_by == admin_user
    assert latest.status == ExportStatus.READY


def test_staff_erase_a_member_from_the_admin(admin_client, admin_user):
    member = UserFactory(full_name="Orla Member")

    admin_client.post(
        "/admin/accounts/user/",
        {"action": "members_erase", "_selected_action": [member.pk]},
        follow=True,
    )

    member.refresh_from_db()
    assert member.full_name == "" and member.email.endswith("@erased.invalid")
    assert member.erasure_requests.get().audit.requested_by == admin_user


def test_staff_erase_members_rather_than_delete_them(admin_client):
    member = UserFactory()

    page = admin_client.get(f"/admin/accounts/user/{member.pk}/change/")
    refused = admin_client.post(f"/admin/accounts/user/{member.pk}/delete/", {"post": "yes"})

    assert (
        "Erase the selected members" in admin_client.get("/admin/accounts/user/").content.decode()
    )
    assert f"/admin/accounts/user/{member.pk}/delete/" not in page.content.decode()
    assert refused.status_code == 403
    assert member.__class__.objects.filter(pk=member.pk).exists()
