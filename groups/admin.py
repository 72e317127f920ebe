"""Groups in the admin: who owns which seats, and who fills them (read mostly: the
subscription's sync and the owner's actions write them)."""

from django.contrib import admin

from groups.models import Group, GroupMember


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    fields = ("email", "user", "status", "invited_at", "accepted_at", "ended_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("owner", "kind", "plan", "seats", "subscription_ref", "updated_at")
    list_filter = ("kind", "plan")
    search_fields = ("owner__email", "subscription_ref", "members__email")
    readonly_fields = (
        "owner", "kind", "plan", "seats", "subscription_ref", "owner_entitlement",
        "created_at", "updated_at",
    )  # fmt: skip
    inlines = (GroupMemberInline,)

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(GroupMember)
class GroupMemberAdmin(admin.ModelAdmin):
    list_display = ("email", "group", "status", "invited_at", "accepted_at")
    list_filter = ("status",)
    search_fields = ("email", "group__owner__email")
    readonly_fields = (
        "group", "email", "user", "status", "entitlement", "invited_at", "accepted_at", "ended_at",
    )  # fmt: skip

    def has_add_permission(self, request: object) -> bool:
        return False
