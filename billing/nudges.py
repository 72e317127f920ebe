"""One broker message per burst of Stripe events, not one per event.

The stored event row is the unit of work; a message only wakes a worker, which applies its
event and then drains every stored event waiting (``billing.events.webhook_events_drain``).
So the door queues a nudge only when none is pending: a flag in the cache, set with
``add`` when a nudge is queued and cleared by the worker as it starts on one. An event
stored while the flag is up is drained by that pending nudge's worker, which clears the
flag before it looks for waiting rows.

Nothing is lost with a nudge: the flag lives ``BILLING_EVENT_NUDGE_SECONDS`` at most, so a
lost or slow nudge only holds the next ones back that long, and the beat re-drive queues
every row left waiting. While the cache is unreachable ``add`` succeeds (it fails open),
so every event gets its own nudge, as before.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def _key() -> str:
    # One flag per database: environments sharing a cache server never hold each other's.
    return f"billing:events-nudge:{connection.settings_dict['NAME']}"


def nudge_claim() -> bool:
    """Raise the pending-nudge flag; True when it was down, so the caller queues a nudge."""
    return bool(cache.add(_key(), 1, timeout=settings.BILLING_EVENT_NUDGE_SECONDS))


def nudge_taken() -> None:
    """Lower the flag: a worker starts on a nudge, and events stored from now on are not
    sure to be seen by it, so the next one queues a nudge of its own. Also called when
    queueing the nudge failed."""
    cache.delete(_key())
