"""A GiST index on (theme, public_location) of the visible pins: the similar search's second reach.

GET /api/pins/similar/ scores the 400 nearest visible pins and the 400 nearest of the theme the
resident picked. At 1 M pins the 400 nearest reach only ~200 m in central Paris, and 111 of the 800
reworded duplicates bench/pins_similar.py looks for lay beyond them; the 400 nearest of the same theme
reach every one. btree_gist (PostgreSQL contrib, a trusted extension) lets one GiST index filter the
theme and walk by distance (KNN) at once; a plain GiST index on the location would have to visit every
pin of other themes on the way (the whole 1.5 km window, ~17,000 heap rows, for a rare theme).
The predicate is Pin.VISIBLE_STATUSES written out, as in 0008 (a test compares them).
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

VISIBLE = "('received', 'acknowledged', 'linked', 'resolved', 'declined')"


class Migration(migrations.Migration):
    dependencies = [("carto", "0015_flag_ip_hash")]

    operations = [
        BtreeGistExtension(),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS pin_visible_theme_public_location ON carto_pin"
            " USING gist (theme_id, public_location) WHERE status IN " + VISIBLE,
            reverse_sql="DROP INDEX IF EXISTS pin_visible_theme_public_location",
        ),
    ]
