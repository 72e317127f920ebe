"""Stripe-like identifiers."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_token(length: int = 24) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    """Return ``<prefix>_<random>``, e.g. ``cus_Q3x...``."""
    return f"{prefix}_{random_token(length)}"
