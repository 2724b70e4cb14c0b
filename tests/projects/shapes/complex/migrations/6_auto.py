from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complex", "5_auto")]
    operations = []
