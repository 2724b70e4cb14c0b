from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("multi1", "3_auto")]
    operations = []
