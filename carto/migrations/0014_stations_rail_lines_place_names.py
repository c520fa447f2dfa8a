"""IDFM stations and rail lines (carto.models.transit), and the gazetteer of GET /api/places/ (PlaceName).

carto_search_key(text): the key every searchable name and every query is compared by (carto_fold, i.e.
unaccent and lower, then each run of other characters than letters and digits made one space: "Goutte
d'Or", "goutte-d or" and "GOUTTE D'OR" give one key). IMMUTABLE like carto_fold, so PlaceName.key and the
query's key are the same function of the text; SQL because the gazetteer is rebuilt in SQL.
"""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models

SEARCH_KEY_SQL = """
CREATE FUNCTION carto_search_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT btrim(regexp_replace(carto_fold(value), '[^[:alnum:]]+', ' ', 'g')) $$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('carto', '0013_carto_place'),
    ]

    operations = [
        migrations.CreateModel(
            name='RailLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(max_length=40, unique=True)),
                ('mode', models.CharField(choices=[('METRO', 'Métro'), ('RER', 'RER'), ('TRAIN', 'Train'), ('TRAMWAY', 'Tramway'), ('VAL', 'VAL'), ('TER', 'TER'), ('NAVETTE', 'Navette')], max_length=16)),
                ('line_ref', models.CharField(blank=True, max_length=20)),
                ('colour', models.CharField(max_length=7)),
                ('geometry', django.contrib.gis.db.models.fields.MultiLineStringField(srid=2154)),
            ],
            options={
                'ordering': ['mode', 'label'],
                'constraints': [models.CheckConstraint(condition=models.Q(('colour__regex', '^#[0-9a-f]{6}$')), name='rail_line_colour_hex')],
            },
        ),
        migrations.CreateModel(
            name='Station',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=20, unique=True)),
                ('name', models.CharField(max_length=200)),
                ('aliases', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=200), blank=True, default=list, size=None)),
                ('lines', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=40), default=list, size=None)),
                ('line_colours', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=7), default=list, size=None)),
                ('modes', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=16), default=list, size=None)),
                ('location', django.contrib.gis.db.models.fields.PointField(srid=2154)),
                ('in_metropole', models.BooleanField(default=False)),
            ],
            options={
                'ordering': ['name', 'code'],
                'constraints': [models.CheckConstraint(condition=models.Q(('lines__len', models.F('line_colours__len'))), name='station_one_colour_per_line')],
            },
        ),
        migrations.CreateModel(
            name='PlaceName',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('commune', 'Commune'), ('arrondissement', 'Arrondissement'), ('qpv', 'QPV'), ('station', 'Station')], max_length=16)),
                ('code', models.CharField(max_length=20)),
                ('name', models.CharField(max_length=200)),
                ('is_alias', models.BooleanField(default=False)),
                ('key', models.TextField()),
                ('territory', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='carto.territory')),
                ('station', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='carto.station')),
            ],
            options={
                'ordering': ['kind', 'code', 'key'],
                'indexes': [django.contrib.postgres.indexes.GinIndex(fields=['key'], name='place_name_key_trgm', opclasses=['gin_trgm_ops']), models.Index(fields=['code'], name='place_name_code')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('kind', 'station'), ('station__isnull', False), ('territory__isnull', True)), models.Q(models.Q(('kind', 'station'), _negated=True), ('territory__isnull', False), ('station__isnull', True)), _connector='OR'), name='place_name_one_place'), models.UniqueConstraint(fields=('kind', 'code', 'key'), name='place_name_unique')],
            },
        ),
        migrations.RunSQL(SEARCH_KEY_SQL, "DROP FUNCTION carto_search_key(text);"),
    ]
