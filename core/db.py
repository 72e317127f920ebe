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


M = TypeVar("M", bound=Model)

# The batch is chosen once (a materialised CTE on PostgreSQL: a subquery could be scanned
# again for each row updated and, skipping the rows this very statement has locked, hand
# out more than ``limit``), locked with SKIP LOCKED where the database has it.
_CLAIM_SQL = "{batch} UPDATE {table} SET {changes} WHERE {waiting} AND {pk} IN ({ids}) RETURNING *"
_CHOOSE_SQL = "SELECT {pk} FROM {table} WHERE {waiting} ORDER BY {pk} LIMIT %s"


def rows_claim_batch(
    model: type[M],
    *,
    waiting: str,
    waiting_params: list[object],
    changes: str,
    changes_params: list[object],
    limit: int,
) -> list[M]:
    """Claim up to ``limit`` rows of ``model`` matching the SQL condition ``waiting``, oldest
    (lowest key) first, in one ``UPDATE … SET changes … RETURNING``; return them in key order.

    ``changes`` must take the rows out of ``waiting`` (a new status, say), so no row is
    claimed twice. Two workers claiming at once never get the same row: PostgreSQL skips the
    rows another claim has locked, SQLite runs one write at a time."""
    meta = model._meta
    quote = connection.ops.quote_name
    assert meta.pk is not None
    names = {"table": quote(meta.db_table), "pk": quote(meta.pk.column), "waiting": waiting}
    choose = _CHOOSE_SQL.format(**names)
    if connection.vendor == "postgresql":
        batch = f"WITH batch AS MATERIALIZED ({choose} FOR UPDATE SKIP LOCKED)"
        ids, params = "SELECT * FROM batch", [*waiting_params, limit]
        params += [*changes_params, *waiting_params]
    else:  # SQLite: one writer at a time, the subquery runs once
        batch, ids = "", choose
        params = [*changes_params, *waiting_params, *waiting_params, limit]
    sql = _CLAIM_SQL.format(batch=batch, changes=changes, ids=ids, **names)
    return sorted(model._default_manager.raw(sql, params), key=lambda row: row.pk)
