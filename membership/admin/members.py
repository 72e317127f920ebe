"""The member page: their trial and entitlements, complimentary access granted and revoked
through membership's services, and why the paywall lets them read an article or not.
Replaces accounts' User admin, which cannot import membership."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin import UserAdmin
from accounts.models import User
from core.errors import ApplicationError
from membership.admin.records import (
    ReadOnlyInline,
    entitlement_coverage,
    entitlement_coverage_short,
    request_actor,
    short_date,
)
from membership.forms import AccessExplainForm, CompGrantForm, EntitlementRevokeForm
from membership.models import Entitlement, Trial
from membership.selectors import access_explain
from membership.services import comp_grant, entitlement_revoke


class TrialInline(ReadOnlyInline):
    model = Trial
    fields = ("kind", "status", "started_at", "ends_at", "ended_at")
    show_change_link = True


class EntitlementInline(ReadOnlyInline):
    model = Entitlement
    fk_name = "user"
    fields = ("source", "titles_covered", "starts_at", "ends_at", "state", "note", "revoke")
    readonly_fields = ("titles_covered", "state", "revoke")
    show_change_link = True
    verbose_name_plural = "entitlements (live and past)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entitlement]:
        return super().get_queryset(request).prefetch_related("titles").order_by("-starts_at")

    @admin.display(description="titles")
    def titles_covered(self, obj: Entitlement) -> str:
        return entitlement_coverage(obj)

    @admin.display(description="state")
    def state(self, obj: Entitlement) -> str:
        if obj.revoked_at:
            return f"revoked {obj.revoked_at:%Y-%m-%d %H:%M}"
        if obj.is_live():
            return "live"
        return "not begun" if obj.starts_at > timezone.now() else "ended"

    @admin.display(description="")
    def revoke(self, obj: Entitlement) -> str:
        if obj.revoked_at or obj.ends_at <= timezone.now():
            return ""
        url = reverse("admin:accounts_user_entitlement_revoke", args=[obj.user_id, obj.pk])
        return format_html('<a class="deletelink" href="{}">Revoke</a>', url)


admin.site.unregister(User)


@admin.register(User)
class MemberAdmin(UserAdmin):
    change_form_template = "admin/membership/member_change_form.html"
    inlines = (TrialInline, EntitlementInline)
    list_display: Any = ("email", "can_read_now", "trial_used", "joined", "is_staff")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        live = Entitlement.objects.live().prefetch_related("titles").order_by("ends_at")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("entitlements", queryset=live, to_attr="live_entitlements"))
        )

    @admin.display(description="can read now")
    def can_read_now(self, obj: Any) -> str:
        """Say which live entitlements open premium articles to the member, or 'no'."""
        live = getattr(obj, "live_entitlements", None)
        if live is None:
            live = list(Entitlement.objects.live().filter(user=obj).prefetch_related("titles"))
        if not live:
            return "no"
        return "; ".join(
            f"{e.get_source_display()}, {entitlement_coverage_short(e)}, to {short_date(e.ends_at)}"
            for e in live
        )

    @admin.display(description="trial used", ordering="trial_used_at")
    def trial_used(self, obj: User) -> str:
        return short_date(obj.trial_used_at)

    @admin.display(description="joined", ordering="date_joined")
    def joined(self, obj: User) -> str:
        return short_date(obj.date_joined)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/comp/",
                wrap(self.comp_grant_view),
                name="accounts_user_comp_grant",
            ),
            path(
                "<path:object_id>/access/",
                wrap(self.access_explain_view),
                name="accounts_user_access_explain",
            ),
            path(
                "<path:object_id>/entitlements/<int:entitlement_id>/revoke/",
                wrap(self.entitlement_revoke_view),
                name="accounts_user_entitlement_revoke",
            ),
            *super().get_urls(),
        ]

    def _member(self, request: HttpRequest, object_id: str, permission: str) -> User:
        if not request.user.has_perm(f"membership.{permission}"):
            raise PermissionDenied
        member = self.get_object(request, unquote(object_id))
        if member is None:
            raise Http404("No such member.")
        return member

    def _render(self, request: HttpRequest, template: str, **context: Any) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/membership/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    def comp_grant_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Grant the member complimentary access through ``comp_grant``."""
        member = self._member(request, object_id, "add_entitlement")
        form = CompGrantForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                comp_grant(
                    user=member,
                    ends_at=form.ends_at(),
                    note=form.cleaned_data["note"],
                    actor=request_actor(request),
                    titles=form.chosen_titles(),
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Granted complimentary access to {member}.")
                return redirect("admin:accounts_user_change", member.pk)
        return self._render(
            request,
            "comp_grant.html",
            title=f"Grant complimentary access to {member}",
            member=member,
            form=form,
            media=self.media + form.media,
        )

    def entitlement_revoke_view(
        self, request: HttpRequest, object_id: str, entitlement_id: int
    ) -> HttpResponse:
        """Confirm, then end one of the member's entitlements through ``entitlement_revoke``."""
        member = self._member(request, object_id, "change_entitlement")
        entitlement = get_object_or_404(Entitlement, pk=entitlement_id, user=member)
        if entitlement.revoked_at or entitlement.ends_at <= timezone.now():
            messages.info(request, "That entitlement has already ended.")
            return redirect("admin:accounts_user_change", member.pk)
        form = EntitlementRevokeForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            entitlement_revoke(
                entitlement=entitlement,
                actor=request_actor(request),
                note=form.cleaned_data["note"],
            )
            messages.success(request, f"Revoked {entitlement} for {member}.")
            return redirect("admin:accounts_user_change", member.pk)
        return self._render(
            request,
            "entitlement_revoke.html",
            title=f"Revoke access for {member}?",
            member=member,
            entitlement=entitlement,
            coverage=entitlement_coverage(entitlement),
            form=form,
        )

    def access_explain_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Show the paywall's decision for the member on the chosen article or title, with
        the entitlements it considered and the events that led there."""
        member = self.get_object(request, unquote(object_id))
        if member is None:
            raise Http404("No such member.")
        if not self.has_view_permission(request, member):
            raise PermissionDenied
        form = AccessExplainForm(request.GET if request.GET else None)
        explanation = None
        if form.is_valid():
            explanation = access_explain(
                reader=member,
                article=form.cleaned_data["article"],
                title=form.cleaned_data["title"],
            )
        return self._render(
            request,
            "access_explain.html",
            title=f"Explain access for {member}",
            member=member,
            form=form,
            explanation=explanation,
        )
