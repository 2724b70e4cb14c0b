from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("squashed", "0001_initial")]
    operations = []
