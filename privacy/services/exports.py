"""Data exports: a zip of JSON files, one per kind of data the registry lists, for the
reader only, for ``PRIVACY_EXPORT_DAYS`` days."""

import json
import logging
import secrets
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.site import site_url
from membership.emails import email_build
from membership.services import outbox_add
from privacy import errors
from privacy.models import DataExport, ExportStatus
from privacy.registry import ENTRIES, EXTRA_EXPORTS, PersonalData, Reader
from privacy.registry.privacy import export_path

logger = logging.getLogger(__name__)


@transaction.atomic
def data_export_request(*, user: User, requested_by: User | None = None) -> DataExport:
    """Record a request for the reader's data; it is built after commit. A reader may ask
    once a day (``export_limit``, 429); staff asking for a reader are not limited."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if requested_by is None or requested_by.pk == locked.pk:
        since = timezone.now() - timedelta(days=1)
        recent = DataExport.objects.filter(user=locked, requested_at__gt=since)
        if recent.exclude(status=ExportStatus.FAILED).exists():
            raise errors.export_limit()
    export = DataExport.objects.create(user=locked, requested_by=requested_by or locked)
    logger.info("Data export %s of user %s requested", export.pk, user.pk)
    return export


def _row(row: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    names = fields or tuple(f.name for f in row._meta.concrete_fields)
    found = {}
    for name in names:
        field = row._meta.get_field(name)
        found[name] = getattr(row, getattr(field, "attname", name))
    return found


def entry_export(entry: PersonalData, reader: Reader) -> Any:
    """The reader's data of one registry entry, as JSON-ready values."""
    if entry.export is not None:
        return entry.export(reader)
    return [_row(row, entry.export_fields) for row in entry.queryset(reader)]


def _readme(files: dict[str, Any]) -> str:
    lines = ["Your data at Masthead, one JSON file per kind of data:", ""]
    described = {e.export_as: e.what for e in ENTRIES if e.export_as}
    for name in files:
        lines.append(f"- {name}: {described.get(name, 'As Stripe holds it for you.')}")
    return "\n".join(lines) + "\n"


def data_export_build(*, export_id: int) -> DataExport:
    """Build the zip of a pending export, then mark it ready for ``PRIVACY_EXPORT_DAYS`` and
    email the reader a link (once). Stripe is asked outside any transaction."""
    export = DataExport.objects.select_related("user").get(pk=export_id)
    if export.status != ExportStatus.PENDING:
        return export
    user = export.user
    reader = Reader(user_id=user.pk, email=user.email, full_name=user.full_name)
    files: dict[str, Any] = {}
    for entry in ENTRIES:
        if entry.export_as:
            files[entry.export_as] = entry_export(entry, reader)
    for name, build in EXTRA_EXPORTS.items():
        files[name] = build(reader)
    file_name = f"{secrets.token_urlsafe(24)}.zip"
    path = export_path(file_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(files))
        for name, content in files.items():
            archive.writestr(name, json.dumps(content, cls=DjangoJSONEncoder, indent=2))
    return _export_ready(export.pk, file_name, path, sorted(files))


@transaction.atomic
def _export_ready(export_id: int, file_name: str, path: Path, names: list[str]) -> DataExport:
    export = DataExport.objects.select_for_update().select_related("user").get(pk=export_id)
    if export.status != ExportStatus.PENDING:  # another worker finished first
        path.unlink(missing_ok=True)
        return export
    now = timezone.now()
    export.status = ExportStatus.READY
    export.file_name = file_name
    export.size = path.stat().st_size
    export.files = names
    export.ready_at = now
    export.expires_at = now + timedelta(days=settings.PRIVACY_EXPORT_DAYS)
    export.save()
    link = site_url(reverse("privacy:export-download", kwargs={"pk": export.pk}))
    message = email_build(
        template="privacy/email/export_ready",
        to=export.user.email,
        context={"link": link, "expires_at": export.expires_at},
    )
    outbox_add(
        kind="data_export_ready",
        object_ref=f"data_export:{export.pk}",
        fact="ready",
        message=message,
        user=export.user,
    )
    logger.info("Data export %s is ready (%s bytes)", export.pk, export.size)
    return export


def data_export_fail(*, export_id: int, error: str) -> None:
    """Mark an export that could not be built, so the reader may ask again at once."""
    DataExport.objects.filter(pk=export_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.FAILED, last_error=error[:2000]
    )


def data_exports_expire() -> int:
    """Delete the zips of exports past their ``expires_at``; return how many."""
    due = DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=timezone.now())
    expired = 0
    for export in due:
        export_path(export.file_name).unlink(missing_ok=True)
        DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.EXPIRED)
        expired += 1
    if expired:
        logger.info("Deleted %s expired data exports", expired)
    return expired
