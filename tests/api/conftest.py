"""Fixtures for the reader API: articles, and a reader signed in by X-Session-Token."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import ArticleFactory, TitleFactory

MARKER = "PREMIUM-BODY-MARKER"


def session_token_for(user) -> str:  # type: ignore[no-untyped-def]
    """Return an allauth headless session token for a fresh session of ``user``."""
    browser = Client()
    browser.force_login(user)
    return browser.session.session_key


@pytest.fixture
def token_client(reader) -> APIClient:  # type: ignore[no-untyped-def]
    """A client signed in by ``X-Session-Token`` only, as the app would be (no cookie)."""
    return APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))


@pytest.fixture
def premium_article(db):  # type: ignore[no-untyped-def]
    return ArticleFactory(title=TitleFactory(slug="the-courier", name="The Courier"))


@pytest.fixture
def free_article(db):  # type: ignore[no-untyped-def]
    return ArticleFactory(is_free=True)
