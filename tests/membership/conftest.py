"""Fixtures for membership tests: trials that end when a test needs, a mail server that
fails when a test needs, and eager tasks that retry."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.mail.backends.locmem import EmailBackend

from accounts.models import User
from config.celery import app as celery_app
from membership.models import Trial, TrialKind
from membership.services import trial_claim, trial_start
from tests.factories import UserFactory

TrialEnding = Callable[..., Trial]


@pytest.fixture
def trial_ending(db: None) -> TrialEnding:
    """Return a maker of trials ending at ``ends_at``: cardless ones started as a reader
    starts theirs (``trial_start``), card ones claimed as billing claims them."""

    def make(
        ends_at: datetime, *, user: User | None = None, kind: str = TrialKind.CARDLESS
    ) -> Trial:
        reader = user or UserFactory()
        starts_at = ends_at - timedelta(days=settings.TRIAL_DAYS)
        if kind == TrialKind.CARD:  # billing's: its access comes with the subscription
            return trial_claim(user=reader, kind=kind, starts_at=starts_at, ends_at=ends_at)
        return trial_start(user=reader, at=starts_at)

    return make


@pytest.fixture
def retries_inline() -> Iterator[None]:
    """Let eager tasks retry inline (a propagated Retry would end them at the first one)."""
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = True


def mail_failing(*failures: Exception | None) -> AbstractContextManager[Any]:
    """Patch the test mail server so its sends fail in turn with ``failures`` (None: that
    send goes through), and every send after them goes through."""
    deliver = EmailBackend.send_messages
    left = iter(failures)

    def flaky(backend: EmailBackend, messages: list[Any]) -> int:
        failure = next(left, None)
        if failure:
            raise failure
        return deliver(backend, messages)

    return mock.patch.object(EmailBackend, "send_messages", flaky)
