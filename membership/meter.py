"""The meter's reads: its limits (cached), the calendar month, and a reader's state."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache

from membership.meter_models import MeterPolicy

logger = logging.getLogger(__name__)

POLICY_CACHE_KEY = "membership:meter-policy"
POLICY_CACHE_SECONDS = 300


@dataclass(frozen=True)
class MeterLimits:
    anonymous: int
    registered: int


@dataclass(frozen=True)
class MeterState:
    """A reader's meter this month, as the API and the pages show it."""

    used: int
    limit: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def meter_limits_get() -> MeterLimits:
    """Return the meter's limits: the admin's policy row, else the settings.

    The row is cached (``POLICY_CACHE_SECONDS``, dropped when it is saved), so a read costs
    no query for it; an unreachable cache falls back to the database.
    """
    try:
        cached = cache.get(POLICY_CACHE_KEY)
    except Exception:  # a cache outage degrades to a query, never breaks reading
        logger.warning("Meter policy cache unavailable; reading the database", exc_info=True)
        cached = None
    if cached is None:
        row = MeterPolicy.objects.values_list("anonymous_limit", "registered_limit").first()
        cached = tuple(row) if row else ()
        try:
            cache.set(POLICY_CACHE_KEY, cached, POLICY_CACHE_SECONDS)
        except Exception:
            logger.warning("Meter policy cache unavailable; not kept", exc_info=True)
    if cached:
        return MeterLimits(*cached)
    return MeterLimits(int(settings.METER_ANONYMOUS), int(settings.METER_REGISTERED))


def meter_limits_forget() -> None:
    """Drop the cached policy (after an admin saved it)."""
    try:
        cache.delete(POLICY_CACHE_KEY)
    except Exception:
        logger.warning("Meter policy cache unavailable; not dropped", exc_info=True)


def meter_month(at: datetime) -> tuple[date, datetime]:
    """Return the meter's month holding ``at`` (its first day in ``METER_TIMEZONE``) and
    the moment the next one starts, when the meter resets."""
    zone = ZoneInfo(settings.METER_TIMEZONE)
    first = at.astimezone(zone).date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, datetime.combine(following, time.min, tzinfo=zone)
