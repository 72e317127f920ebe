"""Fixtures for membership tests: trials that end when a test needs, and a real worker."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from accounts.models import User
from membership.models import EntitlementSource, Trial, TrialKind
from membership.services import entitlement_grant, trial_claim
from tests.factories import UserFactory

TrialEnding = Callable[..., Trial]


@pytest.fixture
def trial_ending(db: None) -> TrialEnding:
    """Return a maker of trials (cardless by default), with their entitlement, ending at
    ``ends_at``."""

    def make(
        ends_at: datetime, *, user: User | None = None, kind: str = TrialKind.CARDLESS
    ) -> Trial:
        reader = user or UserFactory()
        starts_at = ends_at - timedelta(days=14)
        trial = trial_claim(user=reader, kind=kind, starts_at=starts_at, ends_at=ends_at)
        entitlement_grant(
            user=reader,
            source=EntitlementSource.TRIAL,
            starts_at=starts_at,
            ends_at=ends_at,
            reference=f"trial:{trial.pk}",
        )
        return trial

    return make
