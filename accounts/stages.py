"""allauth login stages as Masthead runs them (named in ``AccountAdapter.get_login_stages``)."""

from typing import Any

from allauth.account import stages
from allauth.account.app_settings import EmailVerificationMethod
from django.conf import settings


class EmailVerificationStage(stages.EmailVerificationStage):
    """allauth's "verify your email" step of a login: a sign-up always waits in it (so
    sign-up cannot tell a stranger whether an address has an account); a sign-in with a
    password waits only when ``EMAIL_VERIFICATION_AT_SIGN_IN`` is "mandatory"."""

    def handle(self) -> tuple[Any, bool]:
        relaxed = settings.EMAIL_VERIFICATION_AT_SIGN_IN == EmailVerificationMethod.OPTIONAL
        if relaxed and not self.login.signup:
            self.login.email_verification = EmailVerificationMethod.OPTIONAL
        return super().handle()
