"""The billing tests' sandbox fixtures (a real sandbox process), for the gift tests."""

from tests.billing.conftest import _shared_sandbox, sandbox_api, sandbox_webhooks

__all__ = ["_shared_sandbox", "sandbox_api", "sandbox_webhooks"]
