from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complex", "6_auto")]
    operations = []
