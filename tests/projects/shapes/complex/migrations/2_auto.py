from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complex", "1_auto")]
    operations = []
