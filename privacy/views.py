"""The reader's data pages: ask for an export, download it, delete the account."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from core.api import mark_reader_specific
from core.errors import ApplicationError
from membership.devices import DEVICE_COOKIE
from privacy import selectors, services, tasks
from privacy.registry.privacy import export_path


def _reader(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_POST
@login_required
def export_request_submit(request: HttpRequest) -> HttpResponse:
    """Ask for a copy of the reader's data, then go back to the account page."""
    try:
        export = services.data_export_request(user=_reader(request))
    except ApplicationError as error:
        messages.info(request, error.message)
    else:
        tasks.after_commit(tasks.export_make, export.pk)
        messages.success(
            request,
            "We are putting your data together. We will email you a link when it is ready.",
        )
    return redirect("web:account")


@require_GET
@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the reader their export's zip (theirs only, until it expires)."""
    export = selectors.data_export_downloadable(user=_reader(request), export_id=pk)
    response = FileResponse(
        export_path(export.file_name).open("rb"),
        as_attachment=True,
        filename=f"masthead-data-{export.requested_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    return mark_reader_specific(response)


@require_http_methods(["GET", "POST"])
@login_required
def account_delete_page(request: HttpRequest) -> HttpResponse:
    """Say what deleting the account does; on a POST with the password, do it."""
    reader = _reader(request)
    error = ""
    if request.method == "POST":
        try:
            services.erasure_password_check(
                user=reader, password=request.POST.get("password") or None
            )
            notices = selectors.erasure_notices(user=reader)
            erasure = services.erasure_request(user=reader)
        except ApplicationError as refusal:
            error = refusal.message
        else:
            tasks.after_commit(tasks.erasure_perform, erasure.pk)
            logout(request)
            page = render(request, "privacy/account_deleted.html", {"notices": notices})
            page.delete_cookie(DEVICE_COOKIE)  # the browser's device id goes too
            return mark_reader_specific(page)
    context = {
        "notices": selectors.erasure_notices(user=reader),
        "error": error,
        "latest_export": selectors.data_export_latest(user=reader),
    }
    status = 403 if error else 200
    page = render(request, "privacy/account_delete.html", context, status=status)
    return mark_reader_specific(page)


@require_GET
def account_deleted_page(request: HttpRequest) -> HttpResponse:
    """Confirm that the account is being deleted."""
    return render(request, "privacy/account_deleted.html")
