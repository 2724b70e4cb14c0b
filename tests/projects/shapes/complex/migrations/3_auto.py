from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complex", "2_auto")]
    operations = []
