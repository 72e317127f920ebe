"""Where every app's personal data is, what a reader's export shows of it, and what erasure
does with it: one module per app, each a list of ``PersonalData`` entries.

A model with a link to the user or an email-ish field must appear here or in
``NOT_PERSONAL`` (with the reason); ``tests/privacy/test_registry.py`` walks every model
and fails otherwise. Erasure applies the entries in this order (the account last).
"""

from collections.abc import Callable
from typing import Any

from privacy.registry import (
    accounts,
    appstores,
    billing,
    gifts,
    groups,
    membership,
    payments,
    privacy,
    publishers,
    reading,
)
from privacy.registry.base import Erase, PersonalData, Reader

ENTRIES: list[PersonalData] = [
    *privacy.ENTRIES,
    *billing.ENTRIES,
    *payments.ENTRIES,
    *gifts.ENTRIES,
    *groups.ENTRIES,
    *appstores.ENTRIES,
    *reading.ENTRIES,
    *publishers.ENTRIES,
    *membership.ENTRIES,
    *accounts.ENTRIES,
]

# Files of the export that are not one model's rows: what Stripe holds.
EXTRA_EXPORTS: dict[str, Callable[[Reader], Any]] = {**billing.STRIPE_EXPORTS}

# Models with a user link or an email-ish field that hold nothing of a reader's, and why.
NOT_PERSONAL: dict[str, str] = {}


def entry_for(model_label: str) -> PersonalData | None:
    """The registry's entry for ``app_label.ModelName`` (any case), if any."""
    wanted = model_label.lower()
    return next((e for e in ENTRIES if e.model.lower() == wanted), None)


__all__ = ["ENTRIES", "EXTRA_EXPORTS", "NOT_PERSONAL", "Erase", "PersonalData", "Reader"]
