from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("first_other", "0001_initial")]
    operations = []
