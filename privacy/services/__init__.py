"""Every write of the privacy app: data exports and erasures."""

from privacy.services.erasure import (
    entry_erase,
    erasure_password_check,
    erasure_records_expire,
    erasure_request,
    erasure_run,
    erasure_steps,
    erasures_late_scrub,
    erasures_pending_ids,
)
from privacy.services.exports import (
    data_export_build,
    data_export_fail,
    data_export_request,
    data_exports_expire,
    entry_export,
)

__all__ = [
    "data_export_build",
    "data_export_fail",
    "data_export_request",
    "data_exports_expire",
    "entry_erase",
    "entry_export",
    "erasure_password_check",
    "erasure_records_expire",
    "erasure_request",
    "erasure_run",
    "erasure_steps",
    "erasures_late_scrub",
    "erasures_pending_ids",
]
