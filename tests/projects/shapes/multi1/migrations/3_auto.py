from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("multi1", "2_auto"), ("multi2", "1_auto")]
    operations = []
