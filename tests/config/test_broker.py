"""A Redis broker goes through ``config.broker.RedisTransport``, whose close path survives
the broker going away. tests/reliability/test_faults_broker_restart.py kills a real one."""

from types import SimpleNamespace

import pytest
from kombu.transport import get_transport_cls
from redis.exceptions import ConnectionError as RedisConnectionError

from config.broker import Channel, RedisTransport
from config.celery import app as celery_app


@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_redis_broker_urls_use_the_transport_that_survives_a_restart(scheme: str) -> None:
    assert get_transport_cls(scheme) is RedisTransport


def test_the_app_connects_to_a_redis_broker_through_it() -> None:
    connection = celery_app.connection_for_write("redis://127.0.0.1:6379/0")
    assert isinstance(connection.transport, RedisTransport)
    assert connection.as_uri().startswith("redis://")  # log lines keep the scheme


def test_a_channel_whose_connection_was_collected_refuses_with_a_connection_error() -> None:
    """Celery reconnects after a connection error; an AttributeError stopped the worker."""
    channel = Channel.__new__(Channel)
    channel.connection = SimpleNamespace(client=None)

    with pytest.raises(RedisConnectionError):
        channel._connparams()
    assert issubclass(RedisConnectionError, RedisTransport.connection_errors)
