"""The Redis cache fails open while its server is unreachable (``config.cache``).

No server is needed: the cache points at a port nothing listens on. The reliability suite
(tests/reliability/test_faults_cache.py) kills a real server under gunicorn.
"""

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from django.conf import settings

from config import cache as fail_open
from config.cache import FailOpenRedisCache
from config.env import cache_config


def nothing_listening() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.fixture
def unreachable() -> Iterator[FailOpenRedisCache]:
    fail_open._resting_until.clear()
    yield FailOpenRedisCache(nothing_listening(), {})
    fail_open._resting_until.clear()


def test_a_redis_cache_url_gives_the_cache_that_fails_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = cache_config("redis://127.0.0.1:6379/1", default_dir=tmp_path)
    assert config["BACKEND"] == "config.cache.FailOpenRedisCache"


def test_sessions_live_in_the_database_and_the_cache_holds_only_copies() -> None:
    """Signed-in readers (cookie or app token) stay signed in while the cache is down: every
    session is written to the database, the cache only answers reads of it (a miss or an
    outage reads the row; tests/accounts/test_session_cache.py)."""
    from django.contrib.sessions.backends import cached_db

    from accounts.sessions import SessionStore

    assert settings.SESSION_ENGINE == "accounts.sessions"
    assert issubclass(SessionStore, cached_db.SessionStore)


def test_an_unreachable_cache_answers_as_an_empty_cache_that_takes_writes_at_once(
    unreachable: FailOpenRedisCache,
) -> None:
    began = time.monotonic()

    assert unreachable.get("history", []) == []
    assert unreachable.add("lock", True) is True  # allauth's rate-limit lock is taken
    unreachable.set("history", [1, 2])
    assert unreachable.get_many(["a", "b"]) == {}
    assert unreachable.has_key("history") is False
    assert unreachable.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert unreachable.delete("lock") is False
    unreachable.delete_many(["a", "b"])
    assert unreachable.touch("a") is False
    with pytest.raises(ValueError):
        unreachable.incr("count")

    assert time.monotonic() - began < 2


def test_the_first_failure_logs_a_warning_and_the_server_rests_before_the_next_try(
    unreachable: FailOpenRedisCache, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        for _ in range(20):
            unreachable.get("history", [])
    assert len(caplog.records) == 1
    assert "unreachable (ConnectionError on get): rate limits fail open" in caplog.text

    monkeypatch.setattr(fail_open, "RETRY_SECONDS", 0.0)
    (label,) = fail_open._resting_until
    fail_open._resting_until[label] = time.monotonic()  # the rest is over
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        unreachable.add("lock", True)
    assert len(caplog.records) == 2
    assert "(ConnectionError on add)" in caplog.records[1].getMessage()


def test_every_operation_goes_through_one_redis_client_per_server(
    unreachable: FailOpenRedisCache,
) -> None:
    """Not a new ``redis.Redis`` built for each operation: one per connection pool."""
    client = unreachable._cache.get_client(write=True)

    assert unreachable._cache.get_client() is client
    assert unreachable._cache.get_client("key", write=True) is client
    assert client.connection_pool is unreachable._cache._get_connection_pool(True)
