"""Read-only admin for trials and entitlements, with their event history.

Only membership's services write these rows; the one action here calls one.
"""

from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from membership.models import Entitlement, EntitlementEvent, Trial, TrialEvent
from membership.services import entitlement_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows that only services may write."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def request_actor(request: HttpRequest) -> User:
    """Return the member of staff behind an admin request (admin views require one)."""
    assert isinstance(request.user, User)
    return request.user


def entitlement_coverage(entitlement: Entitlement) -> str:
    """Return 'every title' or the covered titles' names, comma-separated."""
    if entitlement.all_titles:
        return "every title"
    return ", ".join(title.name for title in entitlement.titles.all())


def entitlement_coverage_short(entitlement: Entitlement) -> str:
    """Return 'every title', the one title covered, or how many, for a list column."""
    if entitlement.all_titles:
        return "every title"
    titles = list(entitlement.titles.all())
    return titles[0].name if len(titles) == 1 else f"{len(titles)} titles"


def short_date(moment: datetime | None) -> str:
    """Return a moment as a short local date for a list column ('3 Dec 2026'), or '-'."""
    return "-" if moment is None else f"{timezone.localtime(moment):%-d %b %Y}"


def window(starts_at: datetime, ends_at: datetime) -> str:
    """Return a window of access as two short dates."""
    return f"{short_date(starts_at)} → {short_date(ends_at)}"


class TrialEventInline(ReadOnlyInline):
    model = TrialEvent
    fields = ("kind", "at", "data")


@admin.register(Trial)
class TrialAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "status", "trial_window", "ended")
    list_filter = ("status", "kind")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    date_hierarchy = "started_at"
    inlines = (TrialEventInline,)

    @admin.display(description="window", ordering="started_at")
    def trial_window(self, obj: Trial) -> str:
        return window(obj.started_at, obj.ends_at)

    @admin.display(description="ended", ordering="ended_at")
    def ended(self, obj: Trial) -> str:
        return short_date(obj.ended_at)


class LiveFilter(admin.SimpleListFilter):
    title = "access"
    parameter_name = "access"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("live", "Live now"), ("upcoming", "Not begun"), ("ended", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(starts_at__lte=now, ends_at__gt=now)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "ended":
            return queryset.filter(ends_at__lte=now)
        return queryset


class EntitlementEventInline(ReadOnlyInline):
    model = EntitlementEvent
    fields = ("kind", "at", "actor", "note", "data")


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "source", "coverage", "access_window", "live")
    list_filter = ("source", LiveFilter, "all_titles")
    list_select_related = ("user",)
    search_fields = ("user__email", "reference", "note")
    date_hierarchy = "starts_at"
    inlines = (EntitlementEventInline,)
    actions = ("revoke_selected",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entitlement]:
        return super().get_queryset(request).prefetch_related("titles")

    @admin.display(description="titles")
    def coverage(self, obj: Entitlement) -> str:
        return entitlement_coverage_short(obj)

    @admin.display(description="window", ordering="starts_at")
    def access_window(self, obj: Entitlement) -> str:
        return window(obj.starts_at, obj.ends_at)

    @admin.display(description="live now", boolean=True)
    def live(self, obj: Entitlement) -> bool:
        return obj.is_live()

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("membership.change_entitlement")

    @admin.action(description="Revoke the selected entitlements now", permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Entitlement]) -> None:
        revoked = 0
        for entitlement in queryset.filter(revoked_at=None, ends_at__gt=timezone.now()):
            entitlement_revoke(
                entitlement=entitlement, actor=request_actor(request), note="Revoked in the admin."
            )
            revoked += 1
        messages.success(request, f"Revoked {revoked} entitlement(s).")
