"""What the registry says about one model that holds a reader's personal data."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.db.models import Model, QuerySet


class Erase(StrEnum):
    """What erasure does to the reader's rows of a model."""

    DELETE = "delete"  # the rows are removed
    SCRUB = "scrub"  # the personal fields are blanked, the row stays (records, idempotency)
    KEEP = "keep"  # the rows stay as they are: they hold nothing that names the reader


@dataclass(frozen=True)
class Reader:
    """The reader being exported or erased, as the registry's functions see them."""

    user_id: int
    email: str
    full_name: str
    stripe_customer_ids: tuple[str, ...] = ()

    @property
    def needles(self) -> tuple[str, ...]:
        """The strings that name the reader, searched for in stored JSON."""
        return tuple(n for n in (self.email, self.full_name.strip()) if len(n) >= 3)


# A scrub rule: the erased value, or ``f(row, reader)`` returning it.
Value = Any | Callable[[Any, Reader], Any]


def unlink(name: str) -> Callable[[Any, Reader], Any]:
    """A scrub rule for a link (``buyer_id``) that clears it only where it is the reader."""

    def rule(row: Any, reader: Reader) -> Any:
        value = getattr(row, name)
        return None if value == reader.user_id else value

    return rule


def blank_if_theirs(name: str) -> Callable[[Any, Reader], Any]:
    """A scrub rule for an address field that blanks it only where it is the reader's."""

    def rule(row: Any, reader: Reader) -> Any:
        value = getattr(row, name)
        return "" if reader.email and str(value).lower() == reader.email.lower() else value

    return rule


@dataclass(frozen=True)
class PersonalData:
    """One model's personal data: how to find the reader's rows, what the export shows,
    and what erasure does with them.

    ``reader`` is the ORM path from a row to the reader's id (``user``, ``trial__user``,
    ``pk``); ``rows`` finds them another way (by Stripe customer id, say). ``scrub`` maps a
    field to its erased value, or to ``f(row, reader)``; ``detach`` lists the links to the
    reader set to null. ``apply`` replaces the generic erasure (and returns rows touched),
    ``export`` the generic export. ``late`` entries are scrubbed again for a while after the
    erasure, for what Stripe or a store sends afterwards. ``notice`` is told to the reader
    before they confirm, when they have rows here.
    """

    model: str
    what: str
    erase: Erase
    reader: str = "user"
    export_as: str = ""
    export_fields: tuple[str, ...] = ()
    scrub: Mapping[str, Value] = field(default_factory=dict)
    detach: tuple[str, ...] = ()
    rows: Callable[[Reader], QuerySet[Any]] | None = None
    apply: Callable[[Reader], int] | None = None
    export: Callable[[Reader], Any] | None = None
    late: bool = False
    notice: str = ""

    @property
    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)

    def queryset(self, reader: Reader) -> QuerySet[Any]:
        """The reader's rows of this model."""
        if self.rows is not None:
            return self.rows(reader)
        manager = self.model_class._default_manager
        return manager.filter(**{self.reader: reader.user_id})
