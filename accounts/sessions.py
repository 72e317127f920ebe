"""Signed-in readers' sessions: kept in the database, read from the cache.

Django's cached-database sessions: every write goes to the database and then to the cache,
and a read is answered from the cache, falling back to the database on a miss or while the
cache is unreachable (``config.cache.FailOpenRedisCache`` answers as an empty cache then;
DESIGN.md rule 14). So a signed-in reader's request reads no session row, and the paywall's
gated read costs two queries (the reader; the article with the decision).

Signing out deletes the session from both. The reader is still read from the database on
every request, so a changed password (the session's hash no longer matches) or a reader
made inactive or deleted signs the session out at once. A cached copy lives at most
``SESSION_CACHE_SECONDS``: a sign-out while the cache was unreachable cannot delete the
copy, and this bounds how long it could outlive the session once the cache is back.
"""

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT


class _BoundedCache:
    """The session cache, with every entry's lifetime capped at ``SESSION_CACHE_SECONDS``."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def _cap(self, timeout: Any) -> int:
        cap = settings.SESSION_CACHE_SECONDS
        return cap if timeout is DEFAULT_TIMEOUT or timeout is None else min(int(timeout), cap)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> None:
        self._cache.set(key, value, self._cap(timeout))

    async def aset(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> None:
        await self._cache.aset(key, value, self._cap(timeout))

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def __getattr__(self, name: str) -> Any:  # get, delete and their async forms
        return getattr(self._cache, name)


class SessionStore(cached_db.SessionStore):
    """Django's cached-database session store, with the cached copies' lifetime bounded."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = _BoundedCache(caches[settings.SESSION_CACHE_ALIAS])
