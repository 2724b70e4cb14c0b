from django.db import migrations


class Migration(migrations.Migration):
    replaces = [("multi1", "2_auto"), ("multi1", "3_auto")]
    dependencies = [("multi1", "1_auto"), ("multi2", "1_auto")]
    operations = []
