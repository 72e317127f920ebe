"""A reader with data in every place Masthead keeps it, for the export and erasure tests."""

import os
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from billing.models import WebhookEvent
from membership.emails import email_build
from membership.models import EntitlementSource
from membership.services import entitlement_grant, outbox_add, trial_start
from tests.billing import conftest as billing_fixtures
from tests.factories import StaffFactory, UserFactory

_shared_sandbox = billing_fixtures._shared_sandbox
sandbox_api = billing_fixtures.sandbox_api

NAME = "Philippa Quennell-Ashdown"


@dataclass
class RichReader:
    user: User
    email: str
    name: str
    browser: Client


def rich_reader(email: str = "philippa.quennell@example.org") -> RichReader:
    """A reader with a trial, a comp naming them, an email sent, a Stripe event that carries
    their address and name, a signed-in session and a staff admin log line about them."""
    user = UserFactory(email=email, full_name=NAME)
    trial_start(user=user)
    entitlement_grant(
        user=user,
        source=EntitlementSource.COMP,
        ends_at=timezone.now() + timedelta(days=30),
        note=f"Comp for {NAME} after the complaint",
    )
    message = email_build(
        template="membership/email/trial_reminder",
        to=email,
        context={"ends_at": timezone.now(), "days_left": 3},
    )
    outbox_add(
        kind="trial_reminder", object_ref=f"user:{user.pk}", fact="x", message=message, user=user
    )
    WebhookEvent.objects.create(
        stripe_id=f"evt_rich_{user.pk}",
        type="invoice.paid",
        status="succeeded",
        payload={
            "id": f"evt_rich_{user.pk}",
            "data": {
                "object": {
                    "object": "invoice",
                    "customer_email": email,
                    "customer_name": NAME,
                    "customer_address": {"line1": "4 Harbour Row", "city": "Whitby"},
                    "amount_paid": 1299,
                    "footer": f"Thanks, {NAME}",
                }
            },
        },
    )
    staff = StaffFactory()
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[user], action_flag=CHANGE, change_message="Changed name."
    )
    browser = Client()
    browser.force_login(user)
    return RichReader(user=user, email=email, name=NAME, browser=browser)


def database_dump() -> str:
    """The whole database as text: ``pg_dump`` on PostgreSQL, SQLite's own dump otherwise."""
    if connection.vendor == "postgresql":
        db = settings.DATABASES["default"]
        command = ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-U", db["USER"]]
        command += ["-p", str(db["PORT"] or 5432), connection.settings_dict["NAME"]]
        env: dict[str, Any] = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        return done.stdout
    raw = connection.connection
    return "\n".join(raw.iterdump())


@pytest.fixture
def dump():  # type: ignore[no-untyped-def]
    return database_dump
