from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("conflict", "0001_initial")]
    operations = []
