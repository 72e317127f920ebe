"""The group pages: the owner invites and removes members from the account page; an
invited reader accepts on the invitation's page after signing in or up; a member leaves."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from core.errors import ApplicationError
from groups.selectors import invitation_get
from groups.services import (
    group_leave,
    group_member_accept,
    group_member_invite,
    group_member_remove,
)
from web.views import reader_page


def _account() -> HttpResponse:
    return redirect(reverse("web:account") + "#group-heading")


@reader_page
@require_POST
@login_required
def group_invite_submit(request: HttpRequest) -> HttpResponse:
    """Invite the address typed on the account page to a seat."""
    assert isinstance(request.user, User)
    email = request.POST.get("email", "").strip()
    try:
        invited = group_member_invite(owner=request.user, email=email)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Invitation sent to {invited.member.email}.")
    return _account()


@reader_page
@require_POST
@login_required
def group_member_remove_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a member (or withdraw an invitation) from the account page."""
    assert isinstance(request.user, User)
    try:
        member = group_member_remove(owner=request.user, member_id=pk)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{member.email} no longer has a seat.")
    return _account()


@reader_page
@require_POST
@login_required
def group_leave_submit(request: HttpRequest) -> HttpResponse:
    """Leave the group the reader belongs to."""
    assert isinstance(request.user, User)
    try:
        group_leave(user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "You left the group.")
    return _account()


@reader_page
@require_http_methods(["GET", "POST"])
def group_join_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the invitation, ask a visitor to sign in or up first, and accept it."""
    invitation = invitation_get(token=token)
    if invitation is None:
        return render(request, "web/group_join.html", {"invitation": None}, status=404)
    if not isinstance(request.user, User):
        query = urlencode({"next": request.get_full_path()})
        context = {
            "invitation": invitation,
            "login_url": f"{reverse('account_login')}?{query}",
            "signup_url": f"{reverse('account_signup')}?{query}",
        }
        return render(request, "web/group_join.html", context)
    if request.method == "POST":
        try:
            group_member_accept(user=request.user, token=token)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Welcome: you now share this membership.")
            return _account()
    return render(request, "web/group_join.html", {"invitation": invitation})
