"""Fixtures for membership tests: trials that end when a test needs, and a real worker."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.conf import settings

from accounts.models import User
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
