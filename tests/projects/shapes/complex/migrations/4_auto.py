from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complex", "3_auto")]
    operations = []
