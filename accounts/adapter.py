"""allauth's adapters: the address rules of ``accounts.addresses`` on every sign-up form, and
every link in allauth's emails built from ``SITE_URL`` rather than the request's Host."""

from typing import Any
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.headless.adapter import DefaultHeadlessAdapter
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest
from django.urls import reverse

from accounts.addresses import email_normalize
from core.site import site_public, site_url


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        """allauth's stages, with Masthead's email verification step in place of its own
        (named, not imported: importing allauth's stages first is a circular import)."""
        ours = "accounts.stages.EmailVerificationStage"
        theirs = "allauth.account.stages.EmailVerificationStage"
        return [ours if path == theirs else path for path in super().get_login_stages()]

    def clean_email(self, email: str) -> str:
        """Normalise the address (``accounts.addresses``); a refusal is a form error with
        its code, which allauth headless answers as a 400 with ``code`` and ``message``."""
        return email_normalize(email)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Send with the site's name and public host, not the request's Host."""
        super().send_mail(template_prefix, email, {**context, "current_site": site_public()})

    def get_client_ip(self, request: HttpRequest) -> str:
        """The reader's address for allauth's per-IP limits: ``TRUSTED_PROXY_COUNT`` entries
        from the right of X-Forwarded-For. A request with fewer entries did not come through
        every proxy, so its peer's own address counts (allauth would answer a 500)."""
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            peer = request.META.get("REMOTE_ADDR")
            if not peer:
                raise PermissionDenied("Unable to determine client IP address") from None
            return str(peer)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The per-account failure limit (``login_failed``'s ``key``), keyed on the public
        host: allauth keys it on the request's Host, whose port ALLOWED_HOSTS does not
        check, so each port would have granted five more guesses at one password."""
        login = credentials.get("email", credentials.get("username", "")).lower()
        return f"{site_public().domain}:{login}"


class HeadlessAdapter(DefaultHeadlessAdapter):
    # allauth asks for these when it writes an email: the confirmation link, the password
    # reset link, and the sign-up and reset pages named in the "unknown account" and
    # "account already exists" emails. All are pages of this site, at SITE_URL.
    EMAIL_PAGES = frozenset({"account_confirm_email", "account_reset_password", "account_signup"})

    def get_frontend_url(self, urlname: str, **kwargs: Any) -> str | None:
        """Return the absolute URL, on ``SITE_URL``, of the page an allauth email links to."""
        if urlname == "account_reset_password_from_key":
            # allauth's key is "<uidb36>-<token>", the route's two parts joined by a dash.
            path = reverse(urlname, kwargs={"uidb36": "UID", "key": "KEY"})
            return site_url(path.replace("UID-KEY", quote(kwargs["key"])))
        if urlname in self.EMAIL_PAGES:
            return site_url(reverse(urlname, kwargs=kwargs or None))
        return super().get_frontend_url(urlname, **kwargs)
