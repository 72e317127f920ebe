"""PostgreSQL: the meter's count as a function, so a device's free read can be counted in
the article's own statement (``membership.services.meter``). SQLite has no such function
and counts in a transaction of its own."""

from django.db import migrations

# Returns {seen before, used after counting (NULL when refused), reads inserted, used
# before}: the one statement ``meter_read_count`` ran before, its plan kept by PL/pgSQL.
# With own_transaction, the commit does not wait for the disk (see meter.py).
CREATE = """
CREATE OR REPLACE FUNCTION membership_meter_count(
    p_subject varchar, p_article bigint, p_month date, p_at timestamptz, p_limit integer,
    p_own_transaction boolean
) RETURNS integer[] LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    was_seen boolean;
    counted_used integer;
    inserted integer;
    used_before integer;
BEGIN
    IF p_own_transaction THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    WITH seen AS (
        SELECT EXISTS (
            SELECT 1 FROM membership_meterread r
            WHERE r.subject = p_subject AND r.month = p_month AND r.article_id = p_article
        ) AS yes
    ), counted AS (
        INSERT INTO membership_metercount AS c (subject, month, used)
        SELECT p_subject, p_month, 1 FROM seen WHERE NOT seen.yes
        ON CONFLICT (subject, month) DO UPDATE SET used = c.used + 1
        WHERE c.used < p_limit
        RETURNING c.used
    ), read_row AS (
        INSERT INTO membership_meterread (subject, article_id, month, read_at)
        SELECT p_subject, p_article, p_month, p_at FROM counted
        ON CONFLICT (subject, article_id, month) DO NOTHING
        RETURNING id
    )
    SELECT (SELECT yes FROM seen), (SELECT c.used FROM counted c),
           (SELECT count(*) FROM read_row),
           (SELECT m.used FROM membership_metercount m
            WHERE m.subject = p_subject AND m.month = p_month)
    INTO was_seen, counted_used, inserted, used_before;
    RETURN ARRAY[was_seen::integer, counted_used, inserted, used_before];
END $$;
"""
DROP = (
    "DROP FUNCTION IF EXISTS membership_meter_count(varchar, bigint, date, timestamptz, "
    "integer, boolean)"
)


def _on_postgresql(sql: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("membership", "0010_entitlement_sources_all"),
    ]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
