"""Every model that can hold a reader's personal data is in the privacy registry."""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from privacy.registry import ENTRIES, NOT_PERSONAL, Reader, entry_for
from privacy.services import erasure_steps

USER_MODEL = settings.AUTH_USER_MODEL.lower()


def _links_to_user(model: type[models.Model]) -> bool:
    for field in model._meta.get_fields():
        related = getattr(field, "related_model", None)
        concrete = field.is_relation and field.concrete and related is not None
        if concrete and related._meta.label_lower == USER_MODEL:
            return True
    return False


# Fields that name a reader without a foreign key: "user:<id>" subjects, device ids.
READER_REF_NAMES = ("subject", "opener", "device")


def _email_ish(model: type[models.Model]) -> bool:
    return any(
        isinstance(field, models.EmailField)
        or "email" in field.name.lower()
        or any(name in field.name.lower() for name in READER_REF_NAMES)
        for field in model._meta.concrete_fields
    )


def personal_models() -> list[str]:
    """Models with a link to the user or an email-ish field."""
    return sorted(
        model._meta.label
        for model in apps.get_models()
        if _links_to_user(model) or _email_ish(model) or model._meta.label_lower == USER_MODEL
    )


def test_every_model_with_a_user_link_or_an_email_field_is_in_the_registry() -> None:
    missing = [
        label
        for label in personal_models()
        if entry_for(label) is None and label not in NOT_PERSONAL
    ]

    assert missing == [], (
        "Add these models to privacy/registry/<app>.py (what to export, erase, keep), "
        "or to NOT_PERSONAL with the reason"
    )


def test_the_walk_finds_the_models_it_must() -> None:
    found = personal_models()

    for label in ("accounts.User", "account.EmailAddress", "membership.Trial", "billing.Customer"):
        assert label in found


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.model)
def test_each_entry_names_an_installed_model_and_says_what_it_holds(entry) -> None:
    assert apps.get_model(entry.model) is not None
    assert entry.what


def test_the_account_is_anonymised_last_and_the_audit_written_after() -> None:
    steps = erasure_steps()

    assert steps[0] == "stripe"
    assert steps[-2:] == ["records:accounts.User", "audit"]
    assert len(set(steps)) == len(steps)


def test_export_file_names_are_unique() -> None:
    names = [e.export_as for e in ENTRIES if e.export_as]

    assert len(names) == len(set(names))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.model)
def test_each_entry_names_fields_its_model_has(entry) -> None:
    model = apps.get_model(entry.model)
    names = {f.name for f in model._meta.get_fields()} | {
        f.attname for f in model._meta.concrete_fields
    }

    for name in (*entry.export_fields, *entry.scrub, *entry.detach):
        assert name in names, f"{entry.model} has no field {name}"
    if entry.rows is None and entry.apply is None:
        assert str(model._default_manager.filter(**{entry.reader: 0}).query)  # path resolves


@pytest.mark.django_db
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.model)
def test_each_entry_finds_no_rows_for_a_reader_with_none(entry) -> None:
    reader = Reader(user_id=0, email="nobody@example.org", full_name="No Body")

    assert list(entry.queryset(reader)) == []
