"""The Stripe client for the current settings, idempotency keys, and the one error
boundary: every call to Stripe runs inside ``stripe_call``, which turns Stripe's
exceptions into ``BillingError``."""

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, ParamSpec, TypeVar

import requests
import stripe
from django.conf import settings

from billing.errors import BillingError, BillingErrorCode

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
SDK_API_VERSION: str = stripe.api_version


class _Sessions(threading.local):
    """Each thread's ``requests`` session, made on its first call, that does not read the
    environment (``trust_env`` off)."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False


class HttpClient(stripe.RequestsClient):
    """The SDK's default (``requests``) HTTP client, minus a cost paid on every call.

    A ``requests`` session that trusts the environment reads it on each request: the proxy
    variables (and, worse, a netrc file, whose password would replace the API key's
    ``Authorization``). Here the proxy for Stripe's address is read from the environment
    once, when the client is made (``HTTPS_PROXY``, ``NO_PROXY``...), and each thread's
    session (the SDK keeps one per thread in ``_thread_local.session``) does not look again.
    """

    def __init__(self, *, timeout: float, api_base: str) -> None:
        found = requests.utils.get_environ_proxies(api_base or stripe.DEFAULT_API_BASE)
        proxy: stripe.HTTPClient._Proxy = {
            "http": found.get("http") or found.get("all"),
            "https": found.get("https") or found.get("all"),
        }
        super().__init__(timeout=timeout, proxy=proxy if any(proxy.values()) else None)
        self._thread_local = _Sessions()


@lru_cache(maxsize=4)
def _client_for(
    api_key: str, api_base: str, version: str, timeout: float, retries: int
) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        stripe_version=version,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=HttpClient(timeout=timeout, api_base=api_base),
    )


def client() -> stripe.StripeClient:
    """Return the Stripe client for the current settings."""
    return _client_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_API_VERSION,
        settings.STRIPE_TIMEOUT_SECONDS,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def idempotency_key(operation: str, ids: str, params: dict[str, Any]) -> str:
    """Return ``<operation>:<ids>:<digest of params>``: equal calls share a key."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    return f"{operation}:{ids}:{digest.hexdigest()[:16]}"


def stripe_call(func: Callable[P, T]) -> Callable[P, T]:
    """Run ``func`` with Stripe's exceptions turned into ``BillingError``: a declined card
    (402), an object Stripe does not have (404), a refused request (400), Stripe out of
    reach (503)."""

    @wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except stripe.CardError as exc:
            raise BillingError(
                code=BillingErrorCode.CARD_DECLINED,
                message=exc.user_message or str(exc),
                status=402,
            ) from exc
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                raise BillingError(
                    code=BillingErrorCode.NOT_FOUND,
                    message="Stripe has no such object.",
                    status=404,
                ) from exc
            logger.warning("Stripe refused a request: %s", exc.user_message or exc)
            raise BillingError(
                code=BillingErrorCode.STRIPE_REFUSED,
                message=exc.user_message or "Stripe refused the request.",
                status=400,
            ) from exc
        except stripe.StripeError as exc:
            logger.warning("Stripe call failed: %s", exc)
            raise BillingError(
                code=BillingErrorCode.STRIPE_UNAVAILABLE,
                message="Payments are unavailable just now. Please try again in a minute.",
                status=503,
            ) from exc

    return call


def plain(obj: Any) -> dict[str, Any]:
    """The SDK's object as Stripe's JSON (a dict)."""
    result: dict[str, Any] = obj.to_dict(for_json=True)
    return result


def post(
    operation: str, ids: str, method: Callable[..., Any], params: dict[str, Any]
) -> dict[str, Any]:
    """POST through ``method`` with the idempotency key of the operation; call it inside
    ``stripe_call``."""
    key = idempotency_key(operation, ids, params)
    return plain(method(params, {"idempotency_key": key}))


@stripe_call
def _probe() -> None:
    client().v1.products.list({"limit": 1})


def stripe_reachable() -> bool:
    """Whether Stripe answers an authenticated request now."""
    try:
        _probe()
    except BillingError:
        return False
    return True
