"""Reads about a reader's data exports and erasures."""

from django.http import Http404
from django.utils import timezone

from accounts.models import User
from privacy.models import DataExport, ExportStatus
from privacy.registry import ENTRIES, Reader


def data_export_latest(*, user: User) -> DataExport | None:
    """The reader's most recent export, if any."""
    return DataExport.objects.filter(user=user).first()


def data_export_downloadable(*, user: User, export_id: int) -> DataExport:
    """The export, if it is this reader's, ready and not expired; else ``Http404``."""
    export = DataExport.objects.filter(
        pk=export_id, user=user, status=ExportStatus.READY, expires_at__gt=timezone.now()
    ).first()
    if export is None:
        raise Http404("No such export.")
    return export


def erasure_notices(*, user: User) -> list[str]:
    """What the reader should know before their account is erased: the notices of the
    registry's entries under which they have rows (a store subscription to cancel there)."""
    reader = Reader(user_id=user.pk, email=user.email, full_name=user.full_name)
    return [entry.notice for entry in ENTRIES if entry.notice and entry.queryset(reader).exists()]
