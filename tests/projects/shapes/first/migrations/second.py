from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("first", "thefirst"), ("first_other", "__latest__")]
    operations = []
