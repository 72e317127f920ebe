"""The one error type services raise for the API to render."""


class ApplicationError(Exception):
    """A refusal with a stable ``code`` and a human ``message``, rendered as HTTP ``status``."""

    def __init__(self, *, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
