"""Privacy's own rows: data exports (deleted with their files), erasure requests and audit
rows (kept: they name the account only by its id)."""

from pathlib import Path

from django.conf import settings

from privacy.models import DataExport
from privacy.registry.base import Erase, PersonalData, Reader


def export_path(file_name: str) -> Path:
    """Where an export's zip lives (outside every static and media folder)."""
    return Path(settings.PRIVACY_EXPORT_DIR) / file_name


def exports_delete(reader: Reader) -> int:
    """Delete the reader's export zips and their rows."""
    exports = DataExport.objects.filter(user_id=reader.user_id)
    for file_name in exports.exclude(file_name="").values_list("file_name", flat=True):
        export_path(file_name).unlink(missing_ok=True)
    deleted, _ = exports.delete()
    return deleted


ENTRIES = [
    PersonalData(
        model="privacy.DataExport",
        what="The reader's data exports and their zip files",
        erase=Erase.DELETE,
        apply=exports_delete,
    ),
    PersonalData(
        model="privacy.ErasureRequest",
        what="The erasure's own progress: steps done, Stripe customer ids, counts",
        erase=Erase.KEEP,
    ),
    PersonalData(
        model="privacy.ErasureAudit",
        what="What an erasure removed and kept, when and by whom (the account by id only)",
        erase=Erase.KEEP,
        reader="member_id",
    ),
]
