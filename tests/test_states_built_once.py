"""States built once, incrementally, are Django's: the same model states and the same SQL as a full replay.

The probe builds the state before each migration from one built earlier (the
state after a node whose forwards plan starts the key's plan) instead of
replaying every ancestor, and the time machine reads only the models Django
reloaded. Here, on a project with a merge of two branches touching one
model, a model renamed under another app's foreign key, a squash across two
apps, removed and deleted models, a foreign key to a unique field that
is altered later, a child model under a foreign key and a many-to-many
through a model, and a primary key whose type changes under a foreign key
(the probe renders only what each operation reads), every node's state, the states
around each of its operations (copied, not cloned whole) and its SQL (both
directions) are compared with ``loader.project_state(key, at_end=False)``,
what ``sqlmigrate`` uses, in several orders.
"""

from __future__ import annotations

import json
import shutil

import pytest

from widgets.read.table import column
from widgets.read.timeline import read_timeline
from widgets.run.process import PROBE
from widgets.sandbox import state_cache

HEAD = "from django.db import migrations, models\nimport django.db.models.deletion\n\n\n"
FK = "models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to={!r})"


def migration(dependencies, operations, replaces=None) -> str:
    extra = f"    replaces = {replaces!r}\n" if replaces else ""
    body = "".join(f"        {op},\n" for op in operations)
    return f"{HEAD}class Migration(migrations.Migration):\n{extra}    dependencies = {dependencies!r}\n    operations = [\n{body}    ]\n"


def create(name, *fields) -> str:
    listed = ", ".join(["('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False))", *fields])
    return f"migrations.CreateModel(name={name!r}, fields=[{listed}])"


B1 = [
    create("Book", "('title', models.CharField(max_length=50))", f"('author', {FK.format('a.author')})"),
    "migrations.AddField(model_name='book', name='tags', field=models.ManyToManyField(related_name='liked', to='a.author'))",
]
B2 = [
    "migrations.AlterField(model_name='book', name='title', field=models.CharField(max_length=300))",
    f"migrations.AddField(model_name='book', name='label', field={FK.format('a.label')})",
]
FILES = {
    "a/migrations/0001_initial.py": migration(
        [],
        [
            create("Author", "('name', models.CharField(max_length=50))"),
            create("Tag", "('label', models.CharField(max_length=20))"),
        ],
    ),
    "a/migrations/0002_x.py": migration(
        [("a", "0001_initial")],
        ["migrations.AddField(model_name='author', name='age', field=models.IntegerField(default=0))"],
    ),
    "a/migrations/0002_y.py": migration(
        [("a", "0001_initial")],
        ["migrations.AddField(model_name='author', name='city', field=models.CharField(default='', max_length=30))"],
    ),
    "a/migrations/0003_merge.py": migration(
        [("a", "0002_x"), ("a", "0002_y")],
        ["migrations.AlterField(model_name='author', name='name', field=models.CharField(max_length=200))"],
    ),
    "a/migrations/0004_rename.py": migration(
        [("a", "0003_merge")], ["migrations.RenameModel(old_name='Tag', new_name='Label')"]
    ),
    "b/migrations/0001_initial.py": migration([("a", "0001_initial")], B1),
    "b/migrations/0002_more.py": migration([("b", "0001_initial"), ("a", "0004_rename")], B2),
    "b/migrations/0001_squashed_0002_more.py": migration(
        [("a", "0004_rename")], B1 + B2, replaces=[("b", "0001_initial"), ("b", "0002_more")]
    ),
    "b/migrations/0003_rename_field.py": migration(
        [("b", "0002_more")], ["migrations.RenameField(model_name='book', old_name='title', new_name='name')"]
    ),
    "c/migrations/0001_initial.py": migration(
        [("b", "0003_rename_field"), ("a", "0002_y")],
        [create("Review", f"('book', {FK.format('b.book')})", "('text', models.TextField(default=''))")],
    ),
    "c/migrations/0002_drop_text.py": migration(
        [("c", "0001_initial"), ("a", "0004_rename")], ["migrations.RemoveField(model_name='review', name='text')"]
    ),
    "c/migrations/0003_delete.py": migration([("c", "0002_drop_text")], ["migrations.DeleteModel(name='Review')"]),
    "a/migrations/0005_several.py": migration(
        [("a", "0004_rename")],
        [
            "migrations.AlterField(model_name='author', name='age', field=models.IntegerField(default=1))",
            "migrations.AddField(model_name='author', name='born', field=models.IntegerField(default=1900))",
            "migrations.AlterField(model_name='author', name='name', field=models.CharField(max_length=250))",
            "migrations.RemoveField(model_name='author', name='city')",
            "migrations.AddIndex(model_name='author', index=models.Index(fields=['name'], name='a_name_idx'))",
        ],
    ),
    # A foreign key to a unique field that is not the primary key (to_field), then that field altered.
    "a/migrations/0006_code.py": migration(
        [("a", "0005_several")],
        [
            "migrations.AddField(model_name='author', name='code', field=models.CharField(max_length=10, null=True, unique=True))"
        ],
    ),
    "b/migrations/0004_by_code.py": migration(
        [("b", "0003_rename_field"), ("a", "0006_code")],
        [
            "migrations.AddField(model_name='book', name='writer', field=models.ForeignKey(null=True, "
            "on_delete=django.db.models.deletion.CASCADE, to='a.author', to_field='code', related_name='+'))"
        ],
    ),
    "a/migrations/0007_longer_code.py": migration(
        [("a", "0006_code"), ("b", "0004_by_code")],
        [
            "migrations.AlterField(model_name='author', name='code', field=models.CharField(max_length=40, null=True, unique=True))"
        ],
    ),
    # A child model (multi-table inheritance) pointed at by a foreign key and a many-to-many through a model,
    # then a primary key's type altered under a foreign key (every referrer's column follows it),
    # operations run on the database only, and a field put back into a rebuilt table.
    "d/migrations/0001_initial.py": migration(
        [("b", "0003_rename_field")],
        [
            "migrations.CreateModel(name='Shelf', fields=[('id', models.AutoField(primary_key=True, serialize=False)), "
            "('code', models.CharField(max_length=10, unique=True))])",
            "migrations.CreateModel(name='Ebook', fields=[('book_ptr', models.OneToOneField(auto_created=True, "
            "on_delete=django.db.models.deletion.CASCADE, parent_link=True, primary_key=True, serialize=False, "
            "to='b.book')), ('url', models.CharField(max_length=50))], bases=('b.book',))",
            create(
                "Placement",
                f"('shelf', {FK.format('d.shelf')})",
                f"('ebook', {FK.format('d.ebook')})",
                "('position', models.IntegerField(default=0))",
            ),
            "migrations.AddField(model_name='shelf', name='items', "
            "field=models.ManyToManyField(through='d.Placement', to='d.ebook'))",
            create(
                "Note",
                f"('ebook', {FK.format('d.ebook')})",
                "('text', models.TextField(default=''))",
                "('shelf_code', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, "
                "to='d.shelf', to_field='code', related_name='by_code'))",
            ),
        ],
    ),
    "d/migrations/0002_keys.py": migration(
        [("d", "0001_initial")],
        [
            "migrations.AlterField(model_name='shelf', name='id', "
            "field=models.BigAutoField(primary_key=True, serialize=False))",
            "migrations.AlterField(model_name='ebook', name='url', field=models.CharField(max_length=80))",
            "migrations.AlterField(model_name='shelf', name='code', field=models.CharField(max_length=30, unique=True))",
            "migrations.AlterUniqueTogether(name='placement', unique_together={('shelf', 'ebook')})",
            "migrations.SeparateDatabaseAndState(database_operations=[migrations.AddField(model_name='note', "
            "name='extra', field=models.IntegerField(default=0))], state_operations=[migrations.AddField("
            "model_name='note', name='extra', field=models.IntegerField(default=0))])",
            "migrations.RemoveField(model_name='placement', name='position')",
        ],
    ),
}

# Runs in manage.py shell: every node, three orders, the kit's states against Django's full replay.
COMPARE = """
import json, re, sys
sys.path.insert(0, %(probe)r)
import _probe
from django.db import connection
from django.db.migrations.loader import MigrationLoader

# A default of timezone.now is the time of the reading: the one thing two readings may not share.
masked = lambda sql: re.sub(r"'\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)?'", "'<now>'", json.dumps(sql))
loader = MigrationLoader(connection)
kit_unrendered, kit_restricted = _probe._unrendered, _probe._for_sql_restricted


def as_sqlmigrate(migration, backwards, key):
    # The SQL the way sqlmigrate collects it: Django's own apply or unapply on a fresh, whole, unrendered state.
    _probe._unrendered, _probe._for_sql_restricted = (lambda state: state), (lambda *given: None)
    try:
        return _probe._sql(connection, migration, backwards, lambda: loader.project_state(key, at_end=False))
    finally:
        _probe._unrendered, _probe._for_sql_restricted = kit_unrendered, kit_restricted


nodes = sorted(loader.graph.nodes)
orders = {"sorted": nodes, "reversed": nodes[::-1], "by plan": sorted(nodes, key=lambda k: len(loader.graph.forwards_plan(k)))}
differences, compared = [], 0
for order, keys in orders.items():
    states = _probe._StatesBefore(loader)
    for key in keys:
        mine, django_s = states(key), loader.project_state(key, at_end=False)
        migration = loader.graph.nodes[key]
        if mine.models != django_s.models:
            differences.append([order, list(key), "state"])
        around = states.around_operations(key, mine)
        if mine.models != django_s.models:
            differences.append([order, list(key), "state changed by reading its operations"])
        # Django's own states around each operation: a clone of the whole state per operation.
        state = django_s
        for operation, (ours_before, ours_after) in zip(migration.operations, around, strict=True):
            following = state.clone()
            operation.state_forwards(migration.app_label, following)
            if ours_before.models != state.models or ours_after.models != following.models:
                differences.append([order, list(key), "around", operation.describe()])
            state = following
        after = states.after[key]
        if after.models != migration.mutate_state(django_s, preserve=True).models:
            differences.append([order, list(key), "state after"])
        for backwards in (False, True):
            ours = _probe._sql(connection, migration, backwards, lambda: mine, after)
            theirs = as_sqlmigrate(migration, backwards, key)
            if masked(ours) != masked(theirs):
                differences.append([order, list(key), "sql", backwards, ours, theirs])
        compared += 1
print("@@" + json.dumps({"differences": differences, "compared": compared, "nodes": len(nodes)}))
"""

# The time machine's tables with the reloaded models only, against every model read again at every step.
TIMELINE = """
import json, sys
sys.path.insert(0, %(probe)r)
import _probe
from django.apps import apps as installed
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

answer = _probe.states()
loader = MigrationLoader(connection, ignore_no_migrations=True)
contrib = {c.label: _probe._is_contrib(c.name) for c in installed.get_app_configs()}
state = ProjectState(real_apps=loader.unmigrated_apps)
full = []
for step in answer["steps"]:
    state = loader.graph.nodes[(step["app_label"], step["name"])].mutate_state(state, preserve=False)
    full.append(_probe._schema_of(state.apps, connection, contrib)[0])
replayed, schema = [], {}
for step in answer["steps"]:
    schema = dict(schema)
    for table, value in step["changes"].items():
        schema.pop(table, None) if value is None else schema.__setitem__(table, value)
    replayed.append(schema)
print("@@" + json.dumps({"same": replayed == full, "steps": len(full)}))
"""

# The installed registry's swappable setting names, kept for a probe's call while state apps come and go.
SWAPPABLE = """
import json, sys
sys.path.insert(0, %(probe)r)
import _probe
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

names = ["auth.User", "AUTH.USER", "auth.Group", "a.Author", "b.book", "nowhere.Thing"]
django_s = [apps.get_swappable_settings_name(name) for name in names]
with _probe._swappable_names_kept():
    first = [apps.get_swappable_settings_name(name) for name in names]
    MigrationLoader(connection).project_state().apps  # registers every model of a state: Django's cache is cleared
    hits = apps.get_swappable_settings_name.cache_info().hits
    again = [apps.get_swappable_settings_name(name) for name in names]
    hits = apps.get_swappable_settings_name.cache_info().hits - hits
undone = "get_swappable_settings_name" not in vars(apps)
print("@@" + json.dumps({"django": django_s, "kept": [first, again], "hits": hits, "undone": undone}))
"""


def answer(result) -> dict:
    assert result.ok, result.terminal()
    line = next(line for line in result.stdout.splitlines() if line.startswith("@@"))
    return json.loads(line[2:])


@pytest.fixture(scope="module")
def tangled():
    """Return a sandbox with apps a, b, c written as above and every migration applied."""
    from widgets import Sandbox

    sandbox = Sandbox.fresh("tangled-states")
    for label in ("a", "b", "c", "d"):
        sandbox.write(f"{label}/__init__.py", "")
        sandbox.write(f"{label}/models.py", "")
        sandbox.write(f"{label}/migrations/__init__.py", "")
        sandbox.add_installed_app(label)
    for relative, text in FILES.items():
        sandbox.write(relative, text)
    migrated = sandbox.migrate()
    assert migrated.ok, migrated.terminal()
    yield sandbox
    sandbox.delete()


@pytest.mark.processes("runs the probe's own functions in a shell, which seal Django's connection")
def test_each_state_and_its_sql_is_django_s_in_any_order(tangled):
    found = answer(tangled.shell(COMPARE % {"probe": str(PROBE.parent)}))
    assert found["differences"] == []
    assert found["compared"] == 3 * found["nodes"] and found["nodes"] > 20


@pytest.mark.processes("runs the probe's own functions in a shell, which seal Django's connection")
def test_swappable_setting_names_are_django_s_and_survive_state_apps(tangled):
    found = answer(tangled.shell(SWAPPABLE % {"probe": str(PROBE.parent)}))
    assert "AUTH_USER_MODEL" in found["django"] and None in found["django"]
    assert found["kept"] == [found["django"], found["django"]]
    assert found["hits"] == 6 and found["undone"]


@pytest.mark.processes("runs the probe's own functions in a shell, which seal Django's connection")
def test_the_time_machine_reads_only_reloaded_models_and_loses_nothing(tangled):
    found = answer(tangled.shell(TIMELINE % {"probe": str(PROBE.parent)}))
    assert found == {"same": True, "steps": found["steps"]} and found["steps"] > 20


def test_the_time_machine_is_read_once_per_code_and_kept_on_disk(tangled, monkeypatch):
    folder = tangled.workspace / ".kit" / "sandboxes" / tangled.name / "states"
    shutil.rmtree(folder, ignore_errors=True)  # the sandbox is the module's: start from no kept states
    first = read_timeline(tangled)
    kept = sorted(folder.glob("states-*.json"))
    assert len(kept) == 1

    def no_probe(*args, **kwargs):
        raise AssertionError("the kept states should have been read from disk")

    monkeypatch.setattr("widgets.sandbox.readings.run_probe", no_probe)
    assert read_timeline(tangled) == first
    monkeypatch.undo()
    tangled.write("c/migrations/0004_again.py", migration([("c", "0003_delete")], []))
    try:
        again = read_timeline(tangled)
        assert set(again.steps) == {*first.steps, ("c", "0004_again")}
    finally:
        (tangled.path / "c/migrations/0004_again.py").unlink()
    assert state_cache.KEEP >= 2


def test_a_slider_step_compares_as_diff_does_and_hands_out_the_usual_tables(tangled):
    """Timeline.compare works on the kit's light tables inside; what it returns equals diff of two state_at."""
    from dataclasses import fields

    from widgets.read.diff import diff
    from widgets.read.table import is_table, make_table, records

    timeline = read_timeline(tangled)
    usual = type(make_table([], ["x"]))  # a DataFrame where pandas imports, else the kit's Table
    for first, second in [(-1, 0), (3, 9), (9, 3), (0, len(timeline.steps) - 1)]:
        fast, plain = timeline.compare(first, second), diff(timeline.state_at(first), timeline.state_at(second))
        for f in fields(fast):
            got, expected = getattr(fast, f.name), getattr(plain, f.name)
            if is_table(expected):
                assert type(got) is usual and records(got) == records(expected), f.name
            else:
                assert got == expected, f.name
    changed = timeline.compare(-1, len(timeline.steps) - 1)
    assert changed.tables_added and len(changed.columns_added) > 0


def test_the_time_machine_reads_a_project_whose_user_model_is_swapped():
    """auth.User swapped out (pretix's ``AUTH_USER_MODEL``) has no many-to-many through models: no table, no crash."""
    from widgets import Sandbox

    sandbox = Sandbox.fresh("swapped-user", migrated=False)
    try:
        sandbox.write("accounts/__init__.py", "")
        sandbox.write("accounts/migrations/__init__.py", "")
        sandbox.write(
            "accounts/models.py",
            "from django.contrib.auth.models import AbstractUser\n\n\nclass User(AbstractUser):\n    pass\n",
        )
        sandbox.add_installed_app("accounts")
        settings = "djsandbox/settings.py"
        sandbox.write(settings, sandbox.read(settings) + '\nAUTH_USER_MODEL = "accounts.User"\n')
        # Written out, not made: the template's models point at auth.User, which system checks refuse once swapped.
        user = create("User", "('password', models.CharField(max_length=128))")
        sandbox.write(
            "accounts/migrations/0001_initial.py",
            migration([("auth", "0012_alter_user_first_name_max_length")], [user]),
        )
        timeline = read_timeline(sandbox)
        last = timeline.state_at(len(timeline.steps) - 1, include_contrib=True)
        tables = set(column(last.tables, "table"))
        assert {"accounts_user", "auth_group", "boards_topic"} <= tables
        assert not tables & {"auth_user", "auth_user_groups", "auth_user_user_permissions"}
    finally:
        sandbox.delete()
