from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("merge", "0001_initial")]
    operations = []
