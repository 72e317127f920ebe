"""Log lines never carry a gift link's token.

A gift link is ``/a/<id>/?gift=<token>``: the token sits in the request line and, when a page
links on, in the Referer, both of which access logs write down. ``RedactSecretsFilter``
replaces the value of ``gift=`` (also URL-encoded, as inside a ``next=`` address) with
``[redacted]`` in every record it sees: Django's console handler uses it (settings
``LOGGING``) and ``GunicornLogger`` puts it on gunicorn's access and error logs.
"""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# gift= or gift%3D (any case); the value runs to the next & or quote or space (an encoded
# &, %26, is swallowed too, and so is a parameter merely ending in "gift": redacting more
# than needed is harmless).
SECRET_VALUE = re.compile(r"(gift(?:=|%3D))[^&\s\"']*", re.IGNORECASE)


def secrets_redact(text: str) -> str:
    """Return ``text`` with every gift token replaced by ``[redacted]``."""
    return SECRET_VALUE.sub(rf"\1{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrite a record whose message holds a gift token; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = secrets_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class GunicornLogger(Logger):
    """Gunicorn's logger with gift tokens redacted from the access and error logs
    (``gunicorn --logger-class core.logs.GunicornLogger``)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(RedactSecretsFilter())
