from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("squashed", "0002_second")]
    operations = []
