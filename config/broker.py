"""kombu's Redis transport, with a close path that survives a broker restart.

When the broker goes away under a worker, Celery's consumer collects the broken connection
(which detaches the transport from it) and then closes it. If the first close of the
consumer's channel was cut short by the dead socket, the second one tries to put the
channel's unacknowledged messages back on the broker, builds a new connection pool from the
detached transport and fails with ``AttributeError: 'NoneType' object has no attribute
'hostname'``, which Celery treats as unrecoverable: the worker exits (kombu 5.7.0).

Here a detached channel answers with a Redis ``ConnectionError`` instead, which Celery
expects on that path: the worker logs it and reconnects. Nothing is lost by not putting the
messages back from here: the broker is unreachable anyway, Redis still lists them as
unacknowledged (they come back after the visibility timeout if it kept its data), and every
webhook event is a database row that a beat task re-drives.

``redis_transport_install()`` (called where the Celery app is made) makes ``redis://`` and
``rediss://`` broker URLs use it, so URLs, options and log lines stay kombu's own.
"""

from typing import Any

from kombu import transport as kombu_transports
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    """kombu's Redis channel; once its connection is collected, it answers as a broker down."""

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise RedisConnectionError("The broker connection is closed; reconnecting.")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]
        return params


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`Channel`."""

    Channel = Channel


def redis_transport_install() -> None:
    """Make ``redis://`` and ``rediss://`` broker URLs use :class:`RedisTransport`."""
    for scheme in ("redis", "rediss"):
        kombu_transports.TRANSPORT_ALIASES[scheme] = f"{__name__}:RedisTransport"
        kombu_transports._transport_cache.pop(scheme, None)  # type: ignore[attr-defined]
