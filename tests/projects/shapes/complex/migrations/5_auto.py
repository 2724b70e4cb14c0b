from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complex", "4_auto")]
    operations = []
