from django.db import migrations


class Migration(migrations.Migration):
    replaces = [("squashed", "0001_initial"), ("squashed", "0002_second")]
    dependencies = []
    operations = []
