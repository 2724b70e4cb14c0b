from django.db import migrations


class Migration(migrations.Migration):
    replaces = [("complex", "3_auto"), ("complex", "4_auto"), ("complex", "5_auto")]
    dependencies = [("complex", "2_auto")]
    operations = []
