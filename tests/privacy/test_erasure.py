"""Erasure: the reader is named nowhere after it, Stripe's customer is gone, the records the
law requires stay, and it survives being interrupted."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from billing.models import Customer, Subscription, WebhookEvent
from membership.models import Entitlement, OutboxMessage, OutboxStatus, Trial
from membership.services import email_hash
from privacy.models import ErasureAudit, ErasureRequest, ErasureStatus
from privacy.registry import membership as membership_registry
from privacy.services import (
    erasure_records_expire,
    erasure_request,
    erasure_run,
    erasures_pending_ids,
)
from tests.accounts.signing_up import app_signup_confirmed
from tests.billing.paying import plan_on_sale, subscribe
from tests.privacy.conftest import rich_reader

pytestmark = pytest.mark.django_db(transaction=True)


def erase(user: User, by: User | None = None) -> ErasureRequest:
    request = erasure_request(user=user, requested_by=by)
    assert erasure_run(request_id=request.pk) == "done"
    request.refresh_from_db()
    return request


def test_after_erasure_a_dump_of_the_database_names_the_reader_nowhere(sandbox_api, dump):
    reader = rich_reader()
    subscription = subscribe(sandbox_api.client(), reader.user, plan_on_sale())
    before = dump()
    assert reader.email in before and reader.name in before

    erase(reader.user)

    after = dump()
    assert reader.email not in after
    assert reader.email.split("@")[0] not in after
    assert reader.name not in after
    assert "4 Harbour Row" not in after
    assert Subscription.objects.filter(pk=subscription.pk).exists()  # kept, as a record


def test_the_stripe_customer_is_deleted_and_the_subscription_cancelled_at_the_sandbox(
    sandbox_api,
):
    reader = rich_reader()
    stripe = sandbox_api.client()
    subscription = subscribe(stripe, reader.user, plan_on_sale())
    customer_id = subscription.customer_stripe_id

    request = erase(reader.user)

    assert stripe.v1.customers.retrieve(customer_id).to_dict().get("deleted") is True
    assert stripe.v1.subscriptions.retrieve(subscription.stripe_id).status == "canceled"
    assert not Customer.objects.filter(stripe_id=customer_id).exists()
    subscription.refresh_from_db()
    assert subscription.status == "canceled" and subscription.user is None
    assert request.stripe_customer_ids == [customer_id]


def test_what_is_kept_names_nobody_and_what_is_personal_is_gone(sandbox_api):
    reader = rich_reader()
    user = reader.user
    waiting = OutboxMessage.objects.create(
        kind="trial_ended", object_ref=f"user:{user.pk}", fact="y", to=reader.email, subject="Hi"
    )

    request = erase(user)

    user.refresh_from_db()
    assert user.email == f"erased-{user.pk}@erased.invalid"
    assert user.full_name == "" and not user.is_active and not user.has_usable_password()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not any(
        str(s.get_decoded().get("_auth_user_id")) == str(user.pk) for s in Session.objects.all()
    )
    trial = Trial.objects.get(email_hash=email_hash(reader.email))
    assert trial.user is None
    assert not Entitlement.objects.filter(user=user).live().exists()
    assert all(e.note == "" for e in Entitlement.objects.filter(user=user))
    message = OutboxMessage.objects.get(kind="trial_reminder")
    assert message.to == "erased@erased.invalid" and message.body == "" and message.user is None
    waiting.refresh_from_db()
    assert waiting.status == OutboxStatus.FAILED and waiting.to == "erased@erased.invalid"
    event = WebhookEvent.objects.get(stripe_id=f"evt_rich_{user.pk}")
    invoice = event.payload["data"]["object"]
    assert invoice["customer_email"] == "[erased]" and invoice["amount_paid"] == 1299
    assert invoice["customer_address"] is None and invoice["footer"] == "[erased]"
    assert request.status == ErasureStatus.DONE


def test_the_audit_row_says_what_was_erased_and_kept_without_the_address(sandbox_api, admin_user):
    reader = rich_reader()

    request = erase(reader.user, by=admin_user)

    audit = ErasureAudit.objects.get(request=request)
    assert audit.member_id == reader.user.pk
    assert audit.requested_by == admin_user and audit.by_reader is False
    assert audit.erased["account.EmailAddress"] == 1
    assert audit.kept["membership.Trial"] == 1
    assert audit.kept["billing.WebhookEvent"] == 1
    assert reader.email not in str(audit.__dict__)
    assert audit.records_kept_until > audit.finished_at


def test_signing_up_again_with_the_same_address_works_but_offers_no_trial(sandbox_api):
    reader = rich_reader("returning.reader@example.org")
    erase(reader.user)

    token = app_signup_confirmed("Returning.Reader@example.org")

    me = APIClient(HTTP_X_SESSION_TOKEN=token).get("/api/v1/me/").json()
    assert me["email"] == "returning.reader@example.org"
    assert me["id"] != reader.user.pk
    assert me["trial_eligibility"] == "used"


def test_a_run_killed_mid_way_resumes_where_it_stopped(sandbox_api, dump):
    reader = rich_reader()
    request = erasure_request(user=reader.user)
    boom = RuntimeError("worker killed")

    killed = mock.patch.object(membership_registry, "entitlement_revoke", side_effect=boom)
    with killed, pytest.raises(RuntimeError):
        erasure_run(request_id=request.pk)

    request.refresh_from_db()
    assert request.status == ErasureStatus.PENDING
    assert "stripe" in request.steps_done
    assert "records:membership.Entitlement" not in request.steps_done
    assert request.pk in erasures_pending_ids()

    assert erasure_run(request_id=request.pk) == "done"
    request.refresh_from_db()
    assert request.status == ErasureStatus.DONE and request.attempts == 2
    assert reader.email not in dump()


def test_a_run_held_by_a_live_worker_is_left_alone_and_a_second_request_is_the_same(
    sandbox_api,
):
    reader = rich_reader()
    request = erasure_request(user=reader.user)
    ErasureRequest.objects.filter(pk=request.pk).update(status=ErasureStatus.RUNNING)
    ErasureRequest.objects.filter(pk=request.pk).update(
        lease_until=timezone.now() + timedelta(minutes=5)
    )

    assert erasure_run(request_id=request.pk) == "held"
    assert erasure_request(user=reader.user).pk == request.pk
    ErasureRequest.objects.filter(pk=request.pk).update(lease_until=timezone.now())
    assert erasure_run(request_id=request.pk) == "done"
    assert erasure_run(request_id=request.pk) == "finished"


def test_stripe_out_of_reach_leaves_the_erasure_pending_with_the_reader_signed_out(settings):
    reader = rich_reader()
    Customer.objects.create(user=reader.user, stripe_id="cus_unreachable")
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    request = erasure_request(user=reader.user)

    with pytest.raises(Exception):
        erasure_run(request_id=request.pk)

    request.refresh_from_db()
    assert request.status == ErasureStatus.PENDING and request.last_error
    assert reader.browser.get("/api/v1/me/").status_code in (401, 403)
    assert User.objects.get(pk=reader.user.pk).is_active is False


def test_payment_records_are_kept_for_the_retention_then_deleted(sandbox_api, settings):
    reader = rich_reader()
    subscription = subscribe(sandbox_api.client(), reader.user, plan_on_sale())
    invoice = {"object": "invoice", "customer": subscription.customer_stripe_id}
    WebhookEvent.objects.create(
        stripe_id="evt_invoice", type="invoice.paid", payload={"data": {"object": invoice}}
    )
    request = erase(reader.user)
    kept_until = request.audit.records_kept_until
    assert kept_until - request.finished_at == timedelta(
        days=settings.PRIVACY_PAYMENT_RECORDS_RETENTION_DAYS
    )

    with time_machine.travel(kept_until - timedelta(days=1)):
        assert erasure_records_expire() == 0
    assert Subscription.objects.filter(pk=subscription.pk).exists()
    with time_machine.travel(kept_until + timedelta(minutes=1)):
        assert erasure_records_expire() > 0

    assert not Subscription.objects.filter(pk=subscription.pk).exists()
    assert not WebhookEvent.objects.filter(stripe_id="evt_invoice").exists()
    request.audit.refresh_from_db()
    assert request.audit.records_deleted_at is not None
