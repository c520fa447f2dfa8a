"""Streets from the operator's basemap (carto.models.streets), searchable in the gazetteer as kind `street`;
the gazetteer's trigram index without a pending list (it is only ever rebuilt whole)."""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('carto', '0019_blur_same_territories'),
    ]

    operations = [
        migrations.CreateModel(
            name='Street',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=20, unique=True)),
                ('name', models.CharField(max_length=200)),
                ('geometry', django.contrib.gis.db.models.fields.MultiLineStringField(srid=2154)),
            ],
            options={
                'ordering': ['name', 'code'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='placename',
            name='place_name_one_place',
        ),
        migrations.RemoveIndex(
            model_name='placename',
            name='place_name_key_trgm',
        ),
        migrations.AlterField(
            model_name='placename',
            name='kind',
            field=models.CharField(choices=[('commune', 'Commune'), ('arrondissement', 'Arrondissement'), ('qpv', 'QPV'), ('station', 'Station'), ('street', 'Street')], max_length=16),
        ),
        migrations.AddField(
            model_name='street',
            name='arrondissement',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='carto.territory'),
        ),
        migrations.AddField(
            model_name='street',
            name='commune',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='carto.territory'),
        ),
        migrations.AddField(
            model_name='placename',
            name='street',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='carto.street'),
        ),
        migrations.AddIndex(
            model_name='placename',
            index=django.contrib.postgres.indexes.GinIndex(fastupdate=False, fields=['key'], name='place_name_key_trgm', opclasses=['gin_trgm_ops']),
        ),
        migrations.AddConstraint(
            model_name='placename',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'station'), ('station__isnull', False), ('territory__isnull', True), ('street__isnull', True)), models.Q(('kind', 'street'), ('street__isnull', False), ('territory__isnull', True), ('station__isnull', True)), models.Q(models.Q(('kind__in', ['station', 'street']), _negated=True), ('territory__isnull', False), ('station__isnull', True), ('street__isnull', True)), _connector='OR'), name='place_name_one_place'),
        ),
    ]
