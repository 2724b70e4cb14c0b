from django.db import migrations


class Migration(migrations.Migration):
    replaces = [("multi2", "1_auto"), ("multi2", "2_auto")]
    dependencies = [("multi1", "1_auto")]
    operations = []
