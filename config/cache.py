"""The Redis cache, failing open while its server is unreachable.

Masthead's cache holds only what may be lost: the counters of the API's throttles and of
allauth's rate limits, copies of sessions (they live in the database; accounts/sessions.py)
and the flags of pending nudges (core/nudges.py: webhook events, outbox emails). So a cache
outage must degrade, never break, reading and signing in: while the server cannot be
reached, every operation answers as an empty cache that accepts writes (``get`` misses,
``add`` succeeds, ``set`` is dropped), so rate limits let requests through, sessions are
read from the database and every webhook event and email gets its own nudge. The first
failure logs a warning; the server is then left alone for ``RETRY_SECONDS`` (no request
waits on it), tried again by the next operation after that, and a line says when it is back.

Connections give up quickly (``socket_connect_timeout`` and ``socket_timeout`` of one second,
no retries), so a server that does not answer costs a request at most about a second.
"""

import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

# Server label -> monotonic time before which the server is not tried again (per process).
_resting_until: dict[str, float] = {}

T = TypeVar("T")


def _label(servers: list[str]) -> str:
    """The servers without credentials, for log lines."""
    return ",".join(f"{urlsplit(url).hostname}:{urlsplit(url).port or 6379}" for url in servers)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, with one ``redis.Redis`` per connection pool kept for
    every operation instead of a new one built for each (building it cost more than the
    command it then sent, on every webhook request's nudge flag). The client holds only
    its pool, and it is safe to share between threads."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own attributes, which its type stubs leave out.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            make = self._client  # type: ignore[attr-defined]
            client = self._clients[id(pool)] = make(connection_pool=pool)
        return client


class FailOpenRedisCache(RedisCache):
    """Django's ``RedisCache``; while the server is unreachable, an empty cache that logs."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        quick = {
            "socket_connect_timeout": 1.0,
            "socket_timeout": 1.0,
            "retry": Retry(NoBackoff(), 0),
        }
        options = {**quick, **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusingRedisCacheClient
        self._label = _label(re.split("[;,]", server))

    def _attempt(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        resting_until = _resting_until.get(self._label)
        if resting_until is not None and time.monotonic() < resting_until:
            return fallback
        try:
            result = call()
        except OUTAGE_ERRORS as exc:
            _resting_until[self._label] = time.monotonic() + RETRY_SECONDS
            logger.warning(
                "Cache %s unreachable (%s on %s): rate limits fail open, requests are not "
                "counted; next try in %.0f s",
                self._label,
                type(exc).__name__,
                operation,
                RETRY_SECONDS,
            )
            return fallback
        if resting_until is not None:
            _resting_until.pop(self._label, None)
            logger.warning("Cache %s reachable again: rate limits count again", self._label)
        return result

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._attempt(
            "add", lambda: RedisCache.add(self, key, value, timeout, version), True
        )

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._attempt("get", lambda: RedisCache.get(self, key, default, version), default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._attempt("set", lambda: RedisCache.set(self, key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._attempt("touch", lambda: RedisCache.touch(self, key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._attempt("delete", lambda: RedisCache.delete(self, key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._attempt("get_many", lambda: RedisCache.get_many(self, keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._attempt("has_key", lambda: RedisCache.has_key(self, key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """As for a missing key, ``ValueError`` while the server is unreachable."""
        missing = object()
        result = self._attempt("incr", lambda: RedisCache.incr(self, key, delta, version), missing)
        if result is missing:
            raise ValueError(f"Key '{key}' not found (the cache is unreachable).")
        return int(result)  # type: ignore[call-overload]

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return self._attempt(
            "set_many",
            lambda: RedisCache.set_many(self, data, timeout, version),
            list(data),
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._attempt("delete_many", lambda: RedisCache.delete_many(self, keys, version), None)

    def clear(self) -> None:
        self._attempt("clear", lambda: RedisCache.clear(self), None)
