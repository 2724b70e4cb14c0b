from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("merge", "0002_a"), ("merge", "0002_b")]
    operations = []
