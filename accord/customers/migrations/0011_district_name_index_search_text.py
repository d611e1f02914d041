"""The (district, name) index carries ``search_text``: a search reads each covered district
of a user in name order from it without visiting the table (ADR 0009)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0010_drop_match_key_trigram_index'),
        ('org', '0002_notification'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='account',
            name='account_district_name',
        ),
        migrations.AddIndex(
            model_name='account',
            index=models.Index(fields=['district', 'legal_name', 'id'], include=('search_text',), name='account_district_name'),
        ),
    ]
