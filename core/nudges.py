"""One broker message per burst of stored work, not one per row.

The stored row is the unit of work; a message (a *nudge*) only wakes a worker, which
drains every row waiting. So whoever stores a row queues a nudge only when none is pending:
a flag in the cache, raised with ``add`` when a nudge is queued and lowered by the worker as
it starts on one. A row stored while the flag is up is drained by that pending nudge's
worker, which lowers the flag before it looks for waiting rows.

Nothing is lost with a nudge: the flag lives ``seconds`` at most, so a lost or slow nudge
only holds the next ones back that long, and each kind of row has a beat re-drive that
queues every row left waiting. While the cache is unreachable ``add`` succeeds (it fails
open), so every row gets its own nudge.
"""

from django.core.cache import cache
from django.db import connection


def _key(kind: str) -> str:
    # One flag per database: environments sharing a cache server never hold each other's.
    return f"nudge:{kind}:{connection.settings_dict['NAME']}"


def nudge_claim(kind: str, *, seconds: int) -> bool:
    """Raise the pending-nudge flag of ``kind``; True when it was down, so the caller
    queues a nudge."""
    return bool(cache.add(_key(kind), 1, timeout=seconds))


def nudge_taken(kind: str) -> None:
    """Lower the flag of ``kind``: a worker starts on a nudge, and rows stored from now on
    are not sure to be seen by it, so the next one queues a nudge of its own. Also called
    when queueing the nudge failed."""
    cache.delete(_key(kind))
