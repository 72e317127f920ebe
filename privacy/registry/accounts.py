"""The account: the user row, its addresses, sign-in sessions and app tokens, admin log."""

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from privacy.registry.base import Erase, PersonalData, Reader

AUTH_USER_KEY = "_auth_user_id"


def _session_keys(reader: Reader) -> list[str]:
    """The sessions signed in as the reader: the browser's and the app's tokens (allauth
    headless keeps a token as a session)."""
    found = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(AUTH_USER_KEY)) == str(reader.user_id):
            found.append(session.session_key)
    return found


def sessions_of(reader: Reader) -> QuerySet[Session]:
    return Session.objects.filter(session_key__in=_session_keys(reader))


def sessions_delete(reader: Reader) -> int:
    """Sign the reader out everywhere: each session deleted through the session engine, so
    a cached copy goes with its row."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = _session_keys(reader)
    for key in keys:
        store(session_key=key).delete()
    return len(keys)


def sessions_export(reader: Reader) -> list[dict[str, Any]]:
    user = User.objects.get(pk=reader.user_id)
    return [
        {"last_sign_in": user.last_login, "account_opened": user.date_joined},
        *({"session_expires": s.expire_date} for s in sessions_of(reader)),
    ]


def log_entries_of(reader: Reader) -> QuerySet[LogEntry]:
    """Staff's admin log lines about the member (whose name is the address)."""
    about = Q(content_type=ContentType.objects.get_for_model(User), object_id=str(reader.user_id))
    return LogEntry.objects.filter(about | Q(user_id=reader.user_id))


def erased_address(user_id: int) -> str:
    """The address an erased account keeps: unique, naming nobody, never deliverable."""
    return f"erased-{user_id}@erased.invalid"


def account_anonymise(reader: Reader) -> int:
    """Keep the account as an empty row (ledgers and records still point at it): no address,
    no name, no password, no sign-in; the address is free for a new account."""
    return User.objects.filter(pk=reader.user_id).update(
        email=erased_address(reader.user_id),
        full_name="",
        password=make_password(None),
        is_active=False,
        is_staff=False,
        is_superuser=False,
        last_login=None,
    )


ENTRIES = [
    PersonalData(
        model="sessions.Session",
        what="Sign-in sessions of the browser and the app's session tokens",
        erase=Erase.DELETE,
        rows=sessions_of,
        apply=sessions_delete,
        export_as="sign_in_history.json",
        export=sessions_export,
    ),
    PersonalData(
        model="account.EmailConfirmation",
        what="Confirmation links sent to the reader's addresses",
        erase=Erase.DELETE,
        reader="email_address__user",
    ),
    PersonalData(
        model="account.EmailAddress",
        what="The reader's email addresses and whether they are verified",
        erase=Erase.DELETE,
        export_as="email_addresses.json",
        export_fields=("email", "verified", "primary"),
    ),
    PersonalData(
        model="admin.LogEntry",
        what="Staff's admin log lines about the member, named by their address",
        erase=Erase.SCRUB,
        rows=log_entries_of,
        scrub={"object_repr": "erased member", "change_message": ""},
    ),
    PersonalData(
        model="accounts.User",
        what="The account: address, name, password, sign-in dates",
        erase=Erase.KEEP,
        reader="pk",
        apply=account_anonymise,
        export_as="account.json",
        export_fields=(
            "email",
            "full_name",
            "date_joined",
            "last_login",
            "trial_used_at",
            "is_active",
        ),
    ),
]
