"""Readers in each state the paywall knows, and the browser for the Playwright tests."""

import os
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from membership.models import Article, Plan
from membership.services import trial_start
from tests.factories import ArticleFactory, PlanFactory, TitleFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls made there
# (factories, the live server's data) are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

MARKER = "PREMIUM-BODY-MARKER"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium (Playwright) against a live server"
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium: Playwright's own browser download fails on this machine."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def premium_article(db: None) -> Article:
    title = TitleFactory(name="The Harbour Gazette", slug="harbour-gazette", is_premium=True)
    return ArticleFactory(title=title, headline="Council approves the harbour plan")


@pytest.fixture
def free_article(db: None) -> Article:
    return ArticleFactory(title=TitleFactory(is_premium=True), is_free=True)


@pytest.fixture
def plans(db: None) -> list[Plan]:
    return [
        PlanFactory(
            slug="everything",
            name="Everything",
            monthly_amount=1299,
            yearly_amount=12999,
            display_order=1,
        ),
        PlanFactory(
            slug="essentials",
            name="Essentials",
            monthly_amount=799,
            yearly_amount=7999,
            display_order=0,
        ),
    ]


def never_trialled_reader() -> Any:
    return UserFactory()


def trialling_reader() -> Any:
    reader = UserFactory()
    trial_start(user=reader)
    return reader


def lapsed_reader() -> Any:
    """A reader whose trial began 20 days ago and has run out."""
    reader = UserFactory()
    trial_start(user=reader, at=timezone.now() - timedelta(days=20))
    return reader


READERS = {
    "never_trialled": never_trialled_reader,
    "trialling": trialling_reader,
    "lapsed": lapsed_reader,
}


@pytest.fixture
def client_as(db: None, client: Client) -> Any:
    """Return a client signed in as a new reader in the given state ("anonymous" stays out)."""

    def sign_in(state: str) -> Client:
        if state != "anonymous":
            client.force_login(READERS[state]())
        return client

    return sign_in


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """Desktop width, and no JavaScript: every page must work without it."""
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 900},
        "java_script_enabled": False,
    }
