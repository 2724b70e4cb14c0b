from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runbefore", "0001_initial")]
    run_before = [("runbefore", "0002_second")]
    operations = []
