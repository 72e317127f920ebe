"""Database helpers shared by the apps' services."""

from functools import lru_cache
from typing import TypeVar

from django.db import connection
from django.db.models import Field, Model, QuerySet

T = TypeVar("T")


def row_unique(rows: QuerySet[Model, T]) -> T | None:
    """Return the one row of a lookup by a unique field (or a ``values_list`` of it), or None.

    ``first()`` orders the rows first (by the model's ordering, else its primary key), which
    such a lookup does not need, and compiling the ordering costs more than the rest of a
    short query."""
    return next(iter(rows.order_by()[:1]), None)


@lru_cache(maxsize=16)
def _insert_sql(model: type[Model], unique: str, vendor: str) -> tuple[str, tuple[Field, ...]]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)  # the model's own names
    conflict = next(field.column for field in fields if field.name == unique)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote(conflict)}) DO NOTHING RETURNING {quote(pk.column)}"
    )
    return sql, fields


def row_insert_unless_stored(*, row: Model, unique: str) -> bool:
    """Insert the unsaved ``row`` unless one with the same value of its unique field
    ``unique`` is stored already; return whether it was inserted (then ``row`` has its
    primary key, and is locked until the transaction ends).

    One ``INSERT … ON CONFLICT DO NOTHING``: a duplicate is no error, so no savepoint is
    needed around it inside a transaction, and outside one the insert commits on its own
    (no BEGIN and COMMIT). Model ``save`` methods and signals are not run: for rows that
    have none."""
    sql, fields = _insert_sql(type(row), unique, connection.vendor)
    params = [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone()
    if inserted is None:
        return False
    row.pk = inserted[0]
    row._state.adding = False
    row._state.db = connection.alias
    return True
