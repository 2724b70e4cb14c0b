from django.db import migrations


def fill(apps, schema_editor):
    """Do nothing: the point is that there is no reverse function."""


class Migration(migrations.Migration):
    dependencies = [("irreversible", "0001_initial")]
    operations = [migrations.RunPython(fill)]
