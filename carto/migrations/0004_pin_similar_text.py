"""Index path of GET /api/pins/similar/ (carto.services.similar.similar_rows) at 1 M pins.

carto_fold(text) = unaccent(lower(text)), declared IMMUTABLE so that it can be indexed (the
built-in unaccent() is only STABLE because its dictionary could change; ours is fixed by name).
The GIN trigram index on carto_fold(text) serves `carto_fold(text) %> carto_fold(query)`, the
word-similarity prefilter of the similar-pins query, next to the GiST index on public_location.
"""

from django.db import migrations

FOLD_SQL = """
CREATE FUNCTION carto_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, lower(value)) $$;
"""


class Migration(migrations.Migration):
    dependencies = [("carto", "0003_clusters")]

    operations = [
        migrations.RunSQL(FOLD_SQL, "DROP FUNCTION carto_fold(text);"),
        migrations.RunSQL(
            "CREATE INDEX pin_text_fold_trgm ON carto_pin USING gin (carto_fold(text) gin_trgm_ops);",
            "DROP INDEX pin_text_fold_trgm;",
        ),
    ]
