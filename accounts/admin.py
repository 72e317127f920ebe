"""Admin for members: find a reader by email, see their account, edit staff rights."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest

from accounts.models import User
from accounts.services import email_address_record


class MemberCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class MemberChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = MemberChangeForm
    add_form = MemberCreationForm
    ordering = ("-date_joined",)
    list_display = ("email", "full_name", "date_joined", "trial_used_at", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "full_name")
    readonly_fields = ("date_joined", "last_login", "trial_used_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "date_joined", "last_login", "trial_used_at")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Save the member; a new one gets their address recorded for allauth (unverified)."""
        super().save_model(request, obj, form, change)
        if not change:
            email_address_record(user=obj)
