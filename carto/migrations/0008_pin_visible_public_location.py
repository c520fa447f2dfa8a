"""A GiST index on public_location limited to the publicly visible pins.

Every public read filters on both (GET /api/pins/?bbox=, /api/pins/similar/, tiles): with only the
full GiST index the planner ANDs it with a bitmap scan of pin_status_created over ~all rows, which
cost ~40 ms of a ~270 ms bbox page at 100 k pins (EXPLAIN ANALYZE, bench/pins_bbox.py). The partial
index answers both conditions at once. The predicate is Pin.VISIBLE_STATUSES, written out: a change
to that set needs a new index (`_v2`) or the planner silently stops using this one.
"""

from django.db import migrations

VISIBLE = "('received', 'acknowledged', 'linked', 'resolved', 'declined')"


class Migration(migrations.Migration):
    dependencies = [("carto", "0007_cluster_embeddings")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS pin_visible_public_location ON carto_pin USING gist (public_location) "
            "WHERE status IN " + VISIBLE,
            reverse_sql="DROP INDEX IF EXISTS pin_visible_public_location",
        ),
    ]
