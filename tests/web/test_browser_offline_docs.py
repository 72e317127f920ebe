"""The API docs in Chromium with every request off this machine refused: Swagger UI comes
from the project's own static files, not a CDN."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route, expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

# The live server answers as "localhost"; everything else is off this machine.
LOOPBACK = {"127.0.0.1", "localhost"}


def test_the_api_docs_show_the_operations_with_the_network_blocked(
    live_server, browser: Browser
) -> None:
    refused: list[str] = []

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    # Swagger UI is a JavaScript application: this page alone runs with scripts on.
    context = browser.new_context(java_script_enabled=True)
    context.route("**/*", local_only)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/api/docs/")

        expect(page.get_by_role("heading", name="Masthead API")).to_be_visible()
        operations = page.locator(".opblock-summary-path")
        expect(operations.filter(has_text="/api/v1/articles/{id}/").first).to_be_visible()
        assert operations.count() > 5
        assert refused == []
    finally:
        context.close()
