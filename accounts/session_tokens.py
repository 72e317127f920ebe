"""How the app API finds the reader behind an allauth headless ``X-Session-Token``."""

from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.contrib.sessions.backends.base import SessionBase


class OneQuerySessionTokenStrategy(SessionTokenStrategy):
    """allauth's session tokens, looked up in one query rather than an ``exists()`` and a load.

    Keeps reading an article with a token within the paywall's four-query budget.
    """

    def lookup_session(self, session_token: str) -> SessionBase | None:
        return sessionkit.lookup_session(session_token)
