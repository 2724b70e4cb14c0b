from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runbefore", "0001_initial")]
    operations = []
