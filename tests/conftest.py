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
