"""Generate a big Django project with real schema changes and squashes, and time the state readers on it.

Run: ``.venv/bin/python bench/big_project.py`` (``--keep`` keeps the sandbox; ``--write`` adds the
table to bench/results.md). The project is made in a sandbox of the kit's workspace: 12 apps and
about 300 migrations in Django's graph (more files on disk), models with foreign keys across apps,
every kind of field change (add, alter, rename, remove, new models), a few RunPython steps, and
squashes (the largest replaces 34 migrations), everything applied with a real ``migrate``.

It times, each in a fresh process as a learner meets it (a new kernel on an existing sandbox):
the time machine (``read_timeline``) cold, then one slider step; rollback previews of 3, 13 and
25 steps; a preview to zero of the largest app; and the first graph against bare
``manage.py showmigrations``. Targets (issue 23): time machine <= 5 s cold and <= 0.2 s per step,
any preview of <= 25 steps <= 2 s, a preview to zero of the largest app <= 10 s, the first graph
<= bare showmigrations.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphs import bare_showmigrations  # noqa: E402  (bench/graphs.py, beside this file)

from widgets import Sandbox  # noqa: E402

CORE = "core"
# (label, migrations before squashing, how many of the first ones a squash replaces (0: none))
APPS = [(CORE, 110, 34)] + [(f"app{n:02d}", 28 if n % 3 else 32, 10 if n < 11 else 0) for n in range(1, 12)]
HEADER = "from django.db import migrations, models\nimport django.db.models.deletion\n\n\n"


@dataclass
class Model:
    """A model as the generator knows it: its fields in order, so each operation stays valid."""

    name: str
    fields: list[str] = field(default_factory=list)
    serial: int = 0


@dataclass
class App:
    """One generated app: its models and the operations of each migration, in order."""

    label: str
    models: list[Model] = field(default_factory=list)
    migrations: list[tuple[str, list[tuple[str, str]], list[str]]] = field(default_factory=list)


def _fk(target: str) -> str:
    return f"models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to={target!r})"


def _create(app: App, model: Model, target: str | None) -> str:
    """Return a CreateModel with a name, a number and maybe a foreign key."""
    model.fields = ["name", "number"] + (["parent"] if target else [])
    fields = [
        "('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID'))",
        "('name', models.CharField(max_length=100))",
        "('number', models.IntegerField(default=0))",
    ]
    if target:
        fields.append(f"('parent', {_fk(target)})")
    body = ",\n                ".join(fields)
    return f"migrations.CreateModel(\n            name={model.name!r},\n            fields=[\n                {body},\n            ],\n        )"


def _operation(app: App, step: int, core_models: list[str]) -> str:
    """Return the step's operation: one change to one model, cycling through every kind."""
    model = app.models[step % len(app.models)]
    model.serial += 1
    kind = step % 7
    lower = model.name.lower()
    if kind == 0 and len(app.models) < 8:
        new = Model(f"Thing{len(app.models) + 1}")
        app.models.append(new)
        return _create(app, new, f"{app.label}.{app.models[0].name.lower()}")
    if kind in (0, 1, 5):
        name = f"extra_{model.serial}"
        model.fields.append(name)
        return f"migrations.AddField(model_name={lower!r}, name={name!r}, field=models.CharField(blank=True, default='', max_length=40))"
    if kind == 2:
        name = f"link_{model.serial}"
        model.fields.append(name)
        target = core_models[step % len(core_models)] if app.label != CORE else f"{CORE}.{app.models[0].name.lower()}"
        return f"migrations.AddField(model_name={lower!r}, name={name!r}, field={_fk(target)})"
    if kind == 3:
        return (
            f"migrations.AlterField(model_name={lower!r}, name='name', field=models.CharField(max_length={100 + step}))"
        )
    if kind == 4:
        extras = [f for f in model.fields if f.startswith("extra_")]
        if extras:
            old, new = extras[0], f"renamed_{model.serial}"
            model.fields[model.fields.index(old)] = new
            return f"migrations.RenameField(model_name={lower!r}, old_name={old!r}, new_name={new!r})"
        return f"migrations.AlterField(model_name={lower!r}, name='number', field=models.IntegerField(default={step}))"
    removable = [f for f in model.fields if f.startswith(("extra_", "renamed_"))]
    if removable:
        model.fields.remove(removable[-1])
        return f"migrations.RemoveField(model_name={lower!r}, name={removable[-1]!r})"
    return "migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)"


def generate(index: int, label: str, count: int, core_names: list[str]) -> App:
    """Return one app's migrations: an initial one, then one change each, some depending on core."""
    app = App(label)
    core_models = ["core.thing1", "core.item"]
    names = ["0001_initial"] + [f"{n:04d}_change_{n}" for n in range(2, count + 1)]
    for n, name in enumerate(names):
        deps = [(label, names[n - 1])] if n else []
        if label != CORE and (n == 0 or n % 6 == 0):  # depend on core, as apps on a core app do
            deps.append((CORE, core_names[min(len(core_names) - 1, 2 + n * 3 + index)]))
        if n == 0:
            app.models = [Model("Item"), Model("Thing1")]
            target = "core.item" if label != CORE else None
            operations = [_create(app, app.models[0], target), _create(app, app.models[1], f"{label}.item")]
        else:
            operations = [_operation(app, n, core_models)]
            if label != CORE and n % 9 == 4:
                operations.append("migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)")
        app.migrations.append((name, deps, operations))
    return app


def _file(dependencies: list[tuple[str, str]], operations: list[str], replaces: list | None = None) -> str:
    body = ",\n        ".join(operations)
    extra = f"    replaces = {replaces!r}\n\n" if replaces else ""
    return (
        f"{HEADER}class Migration(migrations.Migration):\n{extra}"
        f"    dependencies = {dependencies!r}\n\n    operations = [\n        {body},\n    ]\n"
    )


def write(sandbox: Sandbox) -> dict[str, int]:
    """Write every app of the project into the sandbox; return the migrations on disk per app."""
    core_names = ["0001_initial"] + [f"{n:04d}_change_{n}" for n in range(2, APPS[0][1] + 1)]
    on_disk = {}
    for index, (label, count, squashed) in enumerate(APPS):
        app = generate(index, label, count, core_names)
        sandbox.write(f"{label}/__init__.py", "")
        sandbox.write(f"{label}/models.py", "")
        sandbox.write(f"{label}/migrations/__init__.py", "")
        for name, deps, operations in app.migrations:
            sandbox.write(f"{label}/migrations/{name}.py", _file(deps, operations))
        if squashed:
            replaced = app.migrations[:squashed]
            keys = [(label, name) for name, _deps, _ops in replaced]
            outside = sorted({d for _n, deps, _o in replaced for d in deps if d[0] != label})
            operations = [op for _n, _d, ops in replaced for op in ops]
            name = f"0001_squashed_{replaced[-1][0]}"
            sandbox.write(f"{label}/migrations/{name}.py", _file(outside, operations, keys))
        on_disk[label] = count + (1 if squashed else 0)
        sandbox.add_installed_app(label)
    return on_disk


def build(name: str = "bench-big") -> Sandbox:
    """Make the sandbox, write the project and apply every migration with a real migrate."""
    sandbox = Sandbox.fresh(name)
    write(sandbox)
    result = sandbox.migrate(timeout=1800)
    if not result.ok:
        raise SystemExit(result.terminal())
    return sandbox


# Each measurement runs in a fresh interpreter: a new kernel opening an existing sandbox.
FRESH = """
import json, sys, time
from widgets import Sandbox
from widgets.run import worker
from widgets.run.commands import child_env
worker.worker(child_env())  # a kernel open a moment: its zygote is ready, as after import widgets
sandbox = Sandbox.open(sys.argv[1])
what = sys.argv[2]
started = time.perf_counter()
if what == "timeline":
    from widgets.read.table import pandas_or_none
    from widgets.read.timeline import read_timeline
    timeline = read_timeline(sandbox)
    # The panel shows its tables (pandas, where it imports) when it opens: counted here, not in the first step.
    pandas_or_none()
    first = time.perf_counter() - started
    steps = []
    for index in range(0, len(timeline.steps), max(1, len(timeline.steps) // 20)):
        begun = time.perf_counter()
        timeline.state_at(index)
        timeline.compare(index - 1, index)
        steps.append(time.perf_counter() - begun)
    print(json.dumps({"seconds": first, "step": max(steps), "steps": len(timeline.steps)}))
elif what == "graph":
    sandbox.migration_graph()
    print(json.dumps({"seconds": time.perf_counter() - started}))
else:
    from widgets.read.rollback import rollback_preview
    app_label, target = what.split(":")
    preview = rollback_preview(sandbox, app_label, target)
    print(json.dumps({"seconds": time.perf_counter() - started, "steps": len(preview.plan.steps),
                      "rehearsed": preview.rehearsal is not None}))
"""


def fresh(sandbox: Sandbox, what: str) -> dict:
    """Run one measurement in a new interpreter and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", FRESH, sandbox.name, what], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:  # a limit met, say: recorded as it is, the other measurements go on
        said = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"seconds": float("nan"), "failed": said[:160], "steps": 0, "step": float("nan"), "rehearsed": False}
    return json.loads(done.stdout.strip().splitlines()[-1])


def targets(sandbox: Sandbox) -> list[tuple[str, str, str]]:
    """Return (what, app_label:target, bound) for the previews to time: 3, 13 and 25 steps, and zero."""
    graph = sandbox.migration_graph()
    core = sorted(n for a, n in zip(graph.nodes["app_label"], graph.nodes["name"], strict=True) if a == CORE)
    leaf = len(core) - 1
    return [
        ("preview, 3 steps back", f"{CORE}:{core[leaf - 3]}", "2 s"),
        ("preview, 13 steps back", f"{CORE}:{core[leaf - 13]}", "2 s"),
        ("preview, 25 steps back", f"{CORE}:{core[leaf - 25]}", "2 s"),
        ("preview, app01 to zero (RunPython.noop on the way back)", "app01:zero", "2 s"),
        (f"preview, {CORE} (largest app) to zero", f"{CORE}:zero", "10 s"),
    ]


def measure(sandbox: Sandbox, repeats: int) -> list[tuple[str, str, str, str]]:
    """Return rows (what, median seconds, detail, target) for the results table."""
    rows = []
    graph = sandbox.migration_graph()
    files = sum(1 for _ in sandbox.path.glob("*/migrations/0*.py"))
    rows.append(("project", "", f"{len(graph.nodes)} nodes in Django's graph, {files} migration files", ""))

    # The states and steps kept on disk per code fingerprint (widgets.sandbox.state_cache).
    kept = sandbox.workspace / ".kit" / "sandboxes" / sandbox.name / "states"

    def median(what: str, cold: bool = False) -> tuple[float, dict]:
        runs = []
        for _ in range(repeats):
            if cold:  # the states kept on disk by an earlier run would make it warm
                shutil.rmtree(kept, ignore_errors=True)
            runs.append(fresh(sandbox, what))
        runs.sort(key=lambda run: run["seconds"])
        return runs[len(runs) // 2]["seconds"], runs[len(runs) // 2]

    seconds, run = median("timeline", cold=True)
    rows.append(
        ("time machine, cold (fresh kernel, nothing kept on disk)", f"{seconds:.2f} s", _detail(run, "steps"), "5 s")
    )
    rows.append(("time machine, one slider step (worst of 20)", f"{run['step']:.3f} s", "", "0.2 s"))
    seconds, run = median("timeline")
    rows.append(
        ("time machine, another fresh kernel (states kept on disk)", f"{seconds:.2f} s", _detail(run, "steps"), "")
    )
    for what, spec, bound in targets(sandbox):
        seconds, run = median(spec, cold=True)  # the steps kept by the run before would make it warm
        rows.append((what, f"{seconds:.2f} s", _detail(run, "steps"), bound))
    seconds, run = median(spec)  # the largest app to zero again, in another fresh kernel: the steps are kept
    rows.append((f"{what}, another fresh kernel (steps kept on disk)", f"{seconds:.2f} s", _detail(run, "steps"), ""))
    rows.append(("preview SQL against bare sqlmigrate --backwards", "", identical_sql(sandbox), "identical"))
    graph_s, _ = median("graph")
    bare = sorted(bare_showmigrations(sandbox) for _ in range(repeats))[repeats // 2]
    rows.append(("first graph in a fresh kernel", f"{graph_s:.2f} s", f"bare showmigrations {bare:.2f} s", "<= bare"))
    return rows


def _detail(run: dict, unit: str) -> str:
    """Say how many steps a measurement covered, or what stopped it."""
    if "failed" in run:
        return f"failed: {run['failed']}"
    return f"{run[unit]} {unit}" + (", rehearsed" if run.get("rehearsed") else "")


def identical_sql(sandbox: Sandbox, every: int = 40) -> str:
    """Compare every ``every``-th step of the preview of the largest app to zero with bare sqlmigrate --backwards."""
    from widgets.read.rollback import rollback_preview

    preview = rollback_preview(sandbox, CORE, "zero")
    now = re.compile(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?'")  # a default of timezone.now: the reading's time
    picked = preview.sql[::every]
    same = sum(
        now.sub("", sandbox.sqlmigrate(app, name, backwards=True).stdout.strip()) == now.sub("", sql)
        for app, name, sql in picked
    )
    return f"{same} of {len(picked)} sampled steps text-identical"


def table(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| measurement | median | detail | target |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the sandbox afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse the sandbox of an earlier --keep run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    sandbox = Sandbox.open("bench-big") if args.reuse else build()
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        print(table(measure(sandbox, args.repeats)))
    finally:
        if not args.keep:
            sandbox.delete()


if __name__ == "__main__":
    main()
