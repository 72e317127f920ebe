"""Gift links in the admin: who gave which article, how often it opened, and withdrawal.

Rows are written only by the services; the one action here withdraws links through one.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from membership.admin.records import ReadOnlyAdmin, ReadOnlyInline, request_actor, short_date
from membership.models import GiftLink, GiftLinkOpen
from membership.services.gift_links import gift_link_revoke, gift_link_state


class GiftLinkOpenInline(ReadOnlyInline):
    model = GiftLinkOpen
    fields = ("opener", "reader", "opened_at")
    verbose_name = "device or reader it opened on"
    verbose_name_plural = "devices and readers it opened on"


class GiftLinkStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("live", "Opens now"), ("expired", "Expired"), ("revoked", "Withdrawn")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(revoked_at=None, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at=None, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.exclude(revoked_at=None)
        return queryset


@admin.register(GiftLink)
class GiftLinkAdmin(ReadOnlyAdmin):
    list_display = ("id", "article", "giver", "given", "expires", "opens", "state")
    list_filter = (GiftLinkStateFilter, "created_at")
    list_select_related = ("article", "giver")
    search_fields = ("giver__email", "article__headline")
    date_hierarchy = "created_at"
    fields = ("giver", "article", "created_at", "expires_at", "opens", "revoked_at", "revoked_by")
    inlines = (GiftLinkOpenInline,)
    actions = ("revoke_selected",)

    @admin.display(description="given", ordering="created_at")
    def given(self, obj: GiftLink) -> str:
        return short_date(obj.created_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj: GiftLink) -> str:
        return short_date(obj.expires_at)

    @admin.display(description="state")
    def state(self, obj: GiftLink) -> str:
        return str(gift_link_state(obj, at=timezone.now()).label)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("membership.change_giftlink")

    @admin.action(
        description="Withdraw the selected gift links (they stop opening at once)",
        permissions=["revoke"],
    )
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[GiftLink]) -> None:
        withdrawn = 0
        for link in queryset.filter(revoked_at=None):
            gift_link_revoke(link=link, actor=request_actor(request))
            withdrawn += 1
        messages.success(request, f"Withdrew {withdrawn} gift link(s).")
