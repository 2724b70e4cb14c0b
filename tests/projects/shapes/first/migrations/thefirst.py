from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("first_other", "__first__")]
    operations = []
