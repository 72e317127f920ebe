"""Fixtures shared by the whole suite."""

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from config.celery import app as celery_app
from tests.factories import UserFactory

# A real ``celery worker`` process for tests marked ``celery_worker`` (see the module).
pytest_plugins = ["tests.celery_worker"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttles and rate limits start from zero in every test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_inline(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run tasks inline, unless the test talks to a real worker (``celery_worker`` mark)."""
    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def reader(db):  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def reader_client(reader) -> APIClient:  # type: ignore[no-untyped-def]
    """A client signed in with a real session, as a browser would be."""
    client = APIClient()
    client.force_login(reader)
    return client


@pytest.fixture
def meter_off(settings, db):  # type: ignore[no-untyped-def]
    """The monthly meter turned off (both limits 0): the paywall as entitlements alone decide.

    For tests of the entitlement paywall; the meter's own tests leave it on. The limits are
    read once here, as a running site keeps them cached, so query budgets stay the same."""
    from membership.meter import meter_limits_get

    settings.METER_ANONYMOUS = 0
    settings.METER_REGISTERED = 0
    meter_limits_get()
