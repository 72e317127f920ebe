"""Stripe-shaped API errors."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error answered to the client as Stripe answers it."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        commit: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        # commit: keep the request's writes (a recorded failed charge) yet answer the error
        self.commit = commit

    def body(self) -> dict[str, Any]:
        """Return the JSON body Stripe would answer."""
        err: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code is not None:
            err["code"] = self.code
        if self.param is not None:
            err["param"] = self.param
        if self.decline_code is not None:
            err["decline_code"] = self.decline_code
        if self.code:
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        err.update(self.extra)
        return {"error": err}


def missing(param: str) -> StripeError:
    """Return the error for a required parameter that was not sent."""
    return StripeError(f"Missing required param: {param}.", code="parameter_missing", param=param)


def invalid(param: str, message: str, code: str | None = "parameter_invalid") -> StripeError:
    """Return the error for a parameter with a bad value."""
    return StripeError(message, code=code, param=param)


def no_such(kind: str, obj_id: str, param: str = "id") -> StripeError:
    """Return the 404 for an unknown id."""
    return StripeError(
        f"No such {kind}: '{obj_id}'", status=404, code="resource_missing", param=param
    )


def card_declined(decline_code: str = "generic_decline", message: str | None = None) -> StripeError:
    """Return the 402 for a declined card."""
    return StripeError(
        message or "Your card was declined.",
        status=402,
        type="card_error",
        code="card_declined",
        decline_code=decline_code,
    )
