"""Sessions are read from the cache, and from the database when the cache misses or is down.

A signed-in reader's gated read then costs two queries; signing out, a changed password
and a reader made inactive take effect at once, cached copy or not.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.sessions import SessionStore
from config import cache as fail_open
from tests.api.conftest import MARKER, session_token_for
from tests.factories import ArticleFactory, EntitlementFactory, TitleFactory

pytestmark = pytest.mark.django_db

APP_SESSION = "/_allauth/app/v1/auth/session"


@pytest.fixture
def article(reader: Any) -> Any:
    title = TitleFactory()
    EntitlementFactory(user=reader, all_titles=False).titles.add(title)
    return ArticleFactory(title=title)


def read(client: APIClient, article: Any) -> dict[str, Any]:
    response = client.get(reverse("membership:article-detail", kwargs={"pk": article.pk}))
    assert response.status_code == 200
    return dict(response.json())


@pytest.fixture
def unreachable_cache(settings: Any) -> Iterator[None]:
    """The cache server down: nothing listens on its port."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    yield
    fail_open._resting_until.clear()


def test_a_signed_in_read_takes_the_session_from_the_cache_two_queries(
    reader: Any, article: Any, django_assert_num_queries: Any
) -> None:
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))

    with django_assert_num_queries(2):  # the reader; the article with the decision
        body = read(client, article)

    assert body["access"]["granted"] is True
    assert MARKER in body["body"]


def test_a_cache_miss_reads_the_session_row_and_fills_the_cache(
    reader: Any, article: Any, django_assert_num_queries: Any
) -> None:
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))
    cache.clear()

    with django_assert_num_queries(3):
        assert read(client, article)["access"]["granted"] is True
    with django_assert_num_queries(2):
        assert read(client, article)["access"]["granted"] is True


def test_while_the_cache_is_down_the_session_is_read_from_the_database(
    reader: Any, article: Any, unreachable_cache: None, django_assert_num_queries: Any
) -> None:
    token = session_token_for(reader)  # written to the database; the cache write is dropped
    client = APIClient(HTTP_X_SESSION_TOKEN=token)

    with django_assert_num_queries(3):
        body = read(client, article)

    assert body["access"]["granted"] is True
    assert MARKER in body["body"]
    client.force_login(reader)  # a browser sign-in works too
    assert read(client, article)["access"]["granted"] is True


def test_signing_out_ends_the_cached_session(reader: Any, article: Any) -> None:
    token = session_token_for(reader)
    client = APIClient(HTTP_X_SESSION_TOKEN=token)
    assert read(client, article)["access"]["granted"] is True

    assert client.delete(APP_SESSION).status_code == 401  # allauth: signed out

    after = read(APIClient(HTTP_X_SESSION_TOKEN=token), article)
    assert after["access"]["granted"] is False
    assert "body" not in after


def test_a_changed_password_ends_the_other_cached_sessions(reader: Any, article: Any) -> None:
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))
    assert read(client, article)["access"]["granted"] is True

    reader.set_password("a new long passphrase 42")
    reader.save()

    after = read(client, article)
    assert after["access"]["granted"] is False
    assert "body" not in after


def test_a_reader_made_inactive_is_signed_out_at_once(reader: Any, article: Any) -> None:
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))
    assert read(client, article)["access"]["granted"] is True

    reader.is_active = False
    reader.save()

    assert read(client, article)["access"]["granted"] is False


def test_a_cached_copy_lives_at_most_session_cache_seconds(reader: Any, settings: Any) -> None:
    settings.SESSION_CACHE_SECONDS = 0  # expires at once
    token = session_token_for(reader)

    assert SessionStore(token).cache_key not in cache
