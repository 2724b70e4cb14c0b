from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("multi2", "1_auto")]
    operations = []
