"""Benchmark and check the kit on real third-party Django projects installed from PyPI.

Run: ``make bench-real`` (or ``python bench/real_projects.py``; ``--rebuild`` to
make the virtual environment and the projects again, ``--projects wagtail`` for
one of them, ``--repeats N``). Needs PyPI the first time; never run by ``make test``.

1. Outside the repository, under ``${XDG_CACHE_HOME:-~/.cache}/migration-kit-bench/``
   (reused when present), it makes a virtual environment with Django 5.2, the
   projects' packages and the kit installed editable from this repository, and
   builds each project there: Wagtail's own starter (``wagtail start mysite``)
   and a django-oscar shop made as oscar's "Building your own shop" says.
2. It runs itself again with that environment's Python (``--inside``) and, for
   each project, copies it into a sandbox (``Sandbox.copy_of``) and:
   a. compares ``sandbox.migration_graph()`` with Django's own
      ``MigrationLoader(connection).graph`` read by ``bench/loader_dump.py`` in a
      separate process: nodes, parent->child edges, leaf nodes per app, applied
      migrations, conflicts; with nothing applied, everything applied, and one
      squash half applied;
   b. times the kit's views and commands next to the bare ``python manage.py ...``.
3. It writes a section of ``bench/results.md`` between the real-projects markers,
   keeping the rest, and exits 1 if a graph differs from Django's (the table is
   written all the same), so the run is also a check.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
LOADER_DUMP = Path(__file__).with_name("loader_dump.py")
_DUMP_MARKER = "@@loader-dump@@"
START = "<!-- real-projects:start -->"
END = "<!-- real-projects:end -->"
DJANGO = "django>=5.2,<5.3"
# A step slower than this is run once: a median of several two-minute runs adds time, not information.
SLOW = 10.0
MAX_PICTURE_PT = 3000
# A bare rollback preview runs one sqlmigrate per step; past this many steps the rest are extrapolated.
BARE_STEPS = 12
DISTRIBUTIONS = ("django", "wagtail", "django-oscar", "sorl-thumbnail", "pretix", "pygraphviz", "graphviz", "pandas")


# ----- the projects ------------------------------------------------------------------------


def _run(argv: list[str], cwd: Path | None = None, log: Path | None = None) -> None:
    """Run a build step; on failure stop with its output (or the log's tail)."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if log is not None:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def build_wagtail(bin_dir: Path, dest: Path) -> None:
    """Make Wagtail's starter project with its own command."""
    _run([str(bin_dir / "wagtail"), "start", "mysite", str(dest)])


OSCAR_SETTINGS = """

# ----- django-oscar, as its docs' "Building your own shop" says (added by bench/real_projects.py) -----
from oscar import INSTALLED_APPS as OSCAR_INSTALLED_APPS  # noqa: E402
from oscar.defaults import *  # noqa: E402,F401,F403

# Oscar's own list of apps, plus the thumbnail app its docs install with django-oscar[sorl-thumbnail].
INSTALLED_APPS = OSCAR_INSTALLED_APPS + ["sorl.thumbnail"]
SITE_ID = 1
MIDDLEWARE += [
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]
AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)
TEMPLATES[0]["OPTIONS"]["context_processors"] += [
    "oscar.apps.search.context_processors.search_form",
    "oscar.apps.checkout.context_processors.checkout",
    "oscar.apps.communication.notifications.context_processors.notifications",
    "oscar.core.context_processors.metadata",
]
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
"""

OSCAR_URLS = """from django.apps import apps
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
"""


def build_oscar(bin_dir: Path, dest: Path) -> None:
    """Make a shop with django-admin startproject and oscar's settings and URLs."""
    _run([str(bin_dir / "django-admin"), "startproject", "frobshop", str(dest)])
    settings = dest / "frobshop" / "settings.py"
    settings.write_text(settings.read_text(encoding="utf-8") + OSCAR_SETTINGS, encoding="utf-8")
    (dest / "frobshop" / "urls.py").write_text(OSCAR_URLS, encoding="utf-8")


PRETIX_MANAGE = """#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pretix.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


def build_pretix(bin_dir: Path, dest: Path) -> None:
    """Make a pretix installation as its manual deployment does: a pretix.cfg beside manage.py, the package's settings.

    The settings are the installed package's (``pretix.settings``), not a file in the folder. The data
    directory (SQLite database, media, secret) is ``data`` beside the config; the log directory is named by
    an absolute path, as deployments do, into the finished folder (``dest`` is a staging folder renamed to
    ``projects/pretix`` when built): a copy's config still names the original's, and copy_of's notices say so.
    """
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "manage.py").write_text(PRETIX_MANAGE, encoding="utf-8")
    logs = dest.parent / "pretix" / "data" / "logs"
    config = f"[pretix]\ninstance_name=bench\nurl=http://localhost\ndatadir=data\nlogdir={logs}\n\n"
    (dest / "pretix.cfg").write_text(config + "[database]\nbackend=sqlite3\n", encoding="utf-8")
    (dest / "data" / "logs").mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Project:
    """One real project: how to build it and what to measure on it."""

    key: str
    title: str
    requirements: tuple[str, ...]
    build: Callable[[Path, Path], None]
    app_label: str  # the app for the one-app graph, sqlmigrate and the plan
    # (app_label, target): a migration name, "zero", or an int n for "n migrations back from the leaf node".
    rollbacks: tuple[tuple[str, str | int], ...]
    # (app_label, target) the panel migrates to for real; defaults to the first rollback.
    panel: tuple[str, str | int] | None = None
    # The virtual environment it is installed in: projects whose pins conflict get one each.
    environment: str = "venv"


PROJECTS = {
    "wagtail": Project(
        "wagtail",
        "Wagtail's starter project (`wagtail start mysite`)",
        ("wagtail>=8,<9",),
        build_wagtail,
        "wagtailcore",
        (("wagtailcore", 8),),
    ),
    "oscar": Project(
        "oscar",
        "a django-oscar shop (`django-admin startproject frobshop` + oscar's INSTALLED_APPS)",
        ("django-oscar[sorl-thumbnail]>=4.2,<5",),
        build_oscar,
        "catalogue",
        (("order", "0001_initial"), ("catalogue", "zero")),
        # `migrate order 0001_initial` itself fails in Django (oscar's order.0001 points at a model that a later
        # migration moved from customer to communication), so the panel goes three catalogue migrations back.
        panel=("catalogue", 3),
    ),
    "pretix": Project(
        "pretix",
        "a pretix installation (`pretix.settings` from the package, a `pretix.cfg` naming its data directory)",
        ("pretix>=2026.8,<2027",),
        build_pretix,
        "pretixbase",
        (("pretixbase", "zero"), ("pretixbase", 25), ("pretixbase", 3)),
        panel=("pretixbase", 3),
        # pretix pins packages (BeautifulSoup4, Pillow, ...) to versions Wagtail's requirements exclude.
        environment="venv-pretix",
    ),
}


def cache_dir() -> Path:
    """Return the bench's folder outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "migration-kit-bench"


def _wanted(environment: str) -> dict:
    chosen = [p for p in PROJECTS.values() if p.environment == environment]
    requirements = sorted({DJANGO, *(r for p in chosen for r in p.requirements)})
    pyproject = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return {"requirements": requirements, "kit": str(ROOT), "pyproject": pyproject}


def ensure_environment(cache: Path, rebuild: bool, environment: str = "venv") -> Path:
    """Make (or reuse) one virtual environment and its projects; return its python."""
    venv, projects = cache / environment, cache / "projects"
    chosen = [p for p in PROJECTS.values() if p.environment == environment]
    if rebuild:
        shutil.rmtree(venv, ignore_errors=True)
        for project in chosen:
            shutil.rmtree(projects / project.key, ignore_errors=True)
    python, stamp = venv / "bin" / "python", venv / ".bench-stamp"
    wanted = _wanted(environment)
    if not (stamp.is_file() and json.loads(stamp.read_text()) == wanted and python.exists()):
        cache.mkdir(parents=True, exist_ok=True)
        log = cache / f"pip-{environment}.log"
        print(f"Installing Django 5.2, the projects and the kit into {venv} (log: {log}) ...", flush=True)
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(venv)], log=log)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        _run([*pip, "--upgrade", "pip"], log=log)
        _run([*pip, *wanted["requirements"], "-e", str(ROOT)], log=log)
        stamp.write_text(json.dumps(wanted))
        for project in chosen:  # new package versions: new starter projects
            shutil.rmtree(projects / project.key, ignore_errors=True)
    for project in chosen:
        dest = projects / project.key
        if not (dest / "manage.py").is_file():
            print(f"Building {project.title} in {dest} ...", flush=True)
            staging = projects / f".{project.key}-building"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            project.build(venv / "bin", staging)
            shutil.rmtree(dest, ignore_errors=True)
            staging.rename(dest)
    return python


# ----- the check: the kit's graph against Django's loader ---------------------------------------


@dataclass(frozen=True, order=True)
class Difference:
    """One way the kit's graph differs from Django's loader graph."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def _name(key: tuple[str, str]) -> str:
    return f"{key[0]}.{key[1]}"


def _kit_leaf_nodes(kit_graph, nodes: set, edges: set) -> dict[str, list[str]]:
    """Return the kit's leaf nodes per app, or Django's rule applied to its nodes and edges."""
    given = getattr(kit_graph, "leaf_nodes", None)
    if given is not None:
        return {app: sorted(names) for app, names in given.items()}
    has_child_in_app = {parent for parent, child in edges if parent[0] == child[0]}
    leaves: dict[str, list[str]] = {}
    for key in sorted(nodes - has_child_in_app):
        leaves.setdefault(key[0], []).append(key[1])
    return leaves


def compare(kit_graph, loader_dump: dict) -> list[Difference]:
    """Return every difference between the kit's MigrationGraph and Django's loader (empty: equal).

    ``kit_graph`` needs ``nodes`` (columns app_label, name, applied) and ``edges``
    (from_app, from_name, to_app, to_name); ``leaf_nodes`` and ``conflicts`` are
    used when present, else derived as Django does. ``loader_dump`` is the JSON
    of ``bench/loader_dump.py graph``. Applied is compared on the nodes both have.
    """
    frame = kit_graph.nodes
    kit_keys = list(zip(frame["app_label"], frame["name"], strict=True))
    kit_nodes = set(kit_keys)
    kit_applied = {key for key, applied in zip(kit_keys, frame["applied"], strict=True) if bool(applied)}
    e = kit_graph.edges
    kit_edges = set(
        zip(zip(e["from_app"], e["from_name"], strict=True), zip(e["to_app"], e["to_name"], strict=True), strict=True)
    )
    nodes = {tuple(k) for k in loader_dump["nodes"]}
    edges = {(tuple(p), tuple(c)) for p, c in loader_dump["edges"]}
    applied = {tuple(k) for k in loader_dump["applied"]} & nodes
    found = [Difference("node listed twice by the kit", _name(k)) for k in sorted(kit_nodes) if kit_keys.count(k) > 1]
    found += [Difference("node only in kit", _name(k)) for k in sorted(kit_nodes - nodes)]
    found += [Difference("node only in Django", _name(k)) for k in sorted(nodes - kit_nodes)]
    found += [Difference("edge only in kit", f"{_name(p)} -> {_name(c)}") for p, c in sorted(kit_edges - edges)]
    found += [Difference("edge only in Django", f"{_name(p)} -> {_name(c)}") for p, c in sorted(edges - kit_edges)]
    common = kit_nodes & nodes
    found += [Difference("applied only in kit", _name(k)) for k in sorted((kit_applied - applied) & common)]
    found += [Difference("applied only in Django", _name(k)) for k in sorted((applied - kit_applied) & common)]
    kit_leaves = _kit_leaf_nodes(kit_graph, kit_nodes, kit_edges)
    leaves = loader_dump["leaf_nodes"]
    for app in sorted(set(kit_leaves) | set(leaves)):
        if sorted(kit_leaves.get(app, [])) != sorted(leaves.get(app, [])):
            found.append(
                Difference("leaf nodes differ", f"{app}: kit {kit_leaves.get(app, [])}, Django {leaves.get(app, [])}")
            )
    kit_conflicts = getattr(kit_graph, "conflicts", None)
    if kit_conflicts is None:
        kit_conflicts = {app: names for app, names in kit_leaves.items() if len(names) > 1}
    kit_conflicts = {app: sorted(names) for app, names in kit_conflicts.items()}
    if kit_conflicts != loader_dump["conflicts"]:
        found.append(Difference("conflicts differ", f"kit {kit_conflicts}, Django {loader_dump['conflicts']}"))
    return found


def summarize(differences: list[Difference], examples: int = 3) -> list[str]:
    """Return one line per kind of difference: its count and a few examples."""
    kinds: dict[str, list[str]] = {}
    for difference in differences:
        kinds.setdefault(difference.kind, []).append(difference.detail)
    lines = []
    for kind, details in kinds.items():
        shown = "; ".join(f"`{d}`" for d in details[:examples]) + (", ..." if len(details) > examples else "")
        lines.append(f"{len(details)} {kind} (e.g. {shown})")
    return lines


# ----- measuring, inside the bench's environment --------------------------------------------


@dataclass
class Row:
    """One line of a project's table; times in seconds, or text where a time does not fit."""

    what: str
    kit: float | str | None
    bare: float | str | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    cold: float | None = None  # the first call in a fresh interpreter (a new kernel), nothing kept on disk

    @property
    def ratio(self) -> float | None:
        """Return kit time over bare time, when both are times."""
        if isinstance(self.kit, float) and isinstance(self.bare, float) and self.bare:
            return self.kit / self.bare
        return None


@dataclass
class GraphCheck:
    """The comparison of one database state."""

    state: str
    how: str
    django: tuple[int, int]
    kit: tuple[int, int] | None
    differences: list[Difference] = field(default_factory=list)


def timed(action: Callable[[], object], setup: Callable[[], object] | None, repeats: int) -> tuple[float, int]:
    """Return the median seconds of ``action`` (``setup`` untimed before each) and the runs made."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
        if times[-1] > SLOW:
            break
    return statistics.median(times), len(times)


def _runs(count: int) -> str:
    return f"{count} run{'s' if count != 1 else ''}"


# A call timed in a fresh interpreter (a new kernel): what comes before it, and what prints its times.
FRESH_HEAD = "import json, sys, time\nfrom widgets import Sandbox, rollback_preview\nfrom widgets.run import worker\ntimes = {}\n"
FRESH_TAIL = "times['call'] = time.perf_counter() - started\nworker.shutdown()\nprint(json.dumps(times))\n"
OPENED = "sandbox = Sandbox.open(sys.argv[1], workspace=sys.argv[2])\n"
OPENED_AND_WARM = (
    "opened = time.perf_counter()\n" + OPENED + "while not worker.warm_pids() and time.perf_counter() - opened < 600:\n"
    "    time.sleep(0.05)\n"
    "times['warm_up'] = time.perf_counter() - opened\n"
)
COPIED = (
    "copying = time.perf_counter()\n"
    "sandbox = Sandbox.copy_of(sys.argv[3], 'first-look', workspace=sys.argv[4])\n"
    "if sandbox.outside_paths():\n"
    "    sandbox.rewrite_outside_paths()\n"
    "times['copy_of'] = time.perf_counter() - copying\n"
)


class Bench:
    """The measurements on one project's sandbox."""

    def __init__(self, project: Project, source: Path, workspace: Path, repeats: int) -> None:
        from widgets import Sandbox

        self.project, self.repeats, self.workspace = project, repeats, workspace
        self.rows: list[Row] = []
        self.checks: list[GraphCheck] = []
        self.facts: dict = {}
        self.sql_differences = 0
        self._django_start: float | None = None
        started = time.perf_counter()
        self.sandbox = Sandbox.copy_of(source, project.key, workspace=workspace)
        took = time.perf_counter() - started
        # pretix's config file names the original's data directory (its database too): point it at the copy's.
        rewritten = self.sandbox.rewrite_outside_paths() if self.sandbox.outside_paths() else []
        note = "copy + settings probe" + (
            f"; then rewrite_outside_paths(): {len(rewritten)} rewritten" if rewritten else ""
        )
        self.rows.append(Row("Sandbox.copy_of(project)", took, note=note))

    # ----- processes ----------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        from widgets.run.commands import child_env

        return child_env()

    def bare(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``python manage.py *args`` as a terminal would: a fresh interpreter (with the kit's hash seed)."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.sandbox.path,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"bare manage.py {' '.join(args)} failed: {done.stderr[-500:]}")
        return done

    def dump(self, *args: str) -> dict:
        """Run bench/loader_dump.py in the sandbox and return its answer."""
        return loader_dump(self.sandbox.path, self.sandbox.settings_module, self._env(), *args)

    # ----- a. the graph check ----------------------------------------------------------------

    def check_graph(self, state: str, how: str) -> dict:
        """Compare the kit's graph with Django's in the sandbox's current database state."""
        print(f"  checking the graph: {state}", flush=True)
        loader = self.dump("graph")
        django = (len(loader["nodes"]), len(loader["edges"]))
        try:
            kit_graph = self.sandbox.migration_graph()
        except Exception as error:  # A kit failure is a finding of the check, not a crash of the bench.
            failure = Difference("kit failed", f"{type(error).__name__}: {error}")
            self.checks.append(GraphCheck(state, how, django, None, [failure]))
            return loader
        kit = (len(kit_graph.nodes), len(kit_graph.edges))
        differences = compare(kit_graph, loader) + self.compare_showmigrations(kit_graph)
        self.checks.append(GraphCheck(state, how, django, kit, differences))
        return loader

    def compare_showmigrations(self, kit_graph) -> list[Difference]:
        """Compare the kit's nodes and applied set with bare `showmigrations`, and the kit's own output with it."""
        bare = self.bare("showmigrations").stdout
        listed, ticked = parse_showmigrations(bare)
        frame = kit_graph.nodes
        keys = list(zip(frame["app_label"], frame["name"], strict=True))
        nodes = set(keys)
        applied = {key for key, done in zip(keys, frame["applied"], strict=True) if bool(done)}
        shown = {key for key in nodes if key[0] in {app for app, _ in listed} or not listed}
        found = [Difference("node not in showmigrations", _name(k)) for k in sorted(shown - listed)]
        found += [Difference("in showmigrations, not a kit node", _name(k)) for k in sorted(listed - nodes)]
        found += [Difference("[X] in showmigrations, not applied in kit", _name(k)) for k in sorted(ticked - applied)]
        found += [
            Difference("applied in kit, [ ] in showmigrations", _name(k)) for k in sorted((applied & listed) - ticked)
        ]
        kit_output = self.sandbox.showmigrations()
        if kit_output.stdout != bare:
            found.append(Difference("kit showmigrations output differs from bare", f"{len(kit_output.stdout)} chars"))
        return found

    def check_states(self) -> dict:
        """Check nothing applied, everything applied and one squash half applied; leave it migrated."""
        sandbox = self.sandbox
        sandbox.snapshot("empty")
        self.check_graph("nothing applied", "the copied project, no database")
        started = time.perf_counter()
        self.bare("migrate", "--noinput")
        self.rows.append(
            Row("bare `migrate` of the whole project (builds the database)", None, time.perf_counter() - started)
        )
        sandbox.snapshot("migrated")
        migrated = self.check_graph("everything applied", "bare `manage.py migrate`")
        self.facts["graph"] = migrated
        squash = pick_squash(migrated)
        if squash is None:
            self.checks.append(
                GraphCheck(
                    "one squash half applied",
                    "skipped: no squash here replaces two or more migrations that are on disk",
                    (0, 0),
                    None,
                )
            )
        else:
            name, first = squash
            sandbox.restore("empty")
            self.dump("apply-replaced", *first)
            how = (
                f"only `{_name(first)}` of the squash `{name}` (and what it depends on) really applied, by "
                "Django's MigrationExecutor with a loader that keeps replaced migrations; "
                f"`manage.py migrate {first[0]} {first[1]}` refuses it (NodeNotFoundError: the squash hides it)"
            )
            self.check_graph("one squash half applied", how)
            sandbox.restore("migrated")
        app_label, target = self._target(migrated, *self.project.rollbacks[-1])
        self.bare("migrate", app_label, target, "--noinput")
        self.check_graph(f"an app rolled back (`migrate {app_label} {target}`)", "bare `manage.py migrate` backwards")
        sandbox.restore("migrated")
        return migrated

    # ----- b. timings ---------------------------------------------------------------------------

    def time_graph(self, loader: dict) -> None:
        """Time reading and drawing the migration graph, cold and warm."""
        sandbox, repeats = self.sandbox, self.repeats
        print("  timing the graph", flush=True)
        cold, imports = [], []
        for _ in range(repeats):
            answer = self._cold_graph()
            cold.append(answer["graph"])
            imports.append(answer["import"])
        bare, bare_runs = timed(lambda: self.dump("graph"), None, repeats)
        bare_name = "Django's MigrationLoader in a fresh process (bench/loader_dump.py graph)"
        self.rows.append(
            Row(
                "migration_graph() cold: first call in a fresh process",
                statistics.median(cold),
                bare,
                note=f"{bare_name}; `import widgets` {statistics.median(imports):.2f} s more",
                cold=statistics.median(cold),
            )
        )
        sandbox.migration_graph()

        def touch() -> None:
            os.utime(sandbox.db_path)  # the database "changed": the next read cannot come from the cache

        warm, runs = timed(sandbox.migration_graph, touch, repeats)
        self.rows.append(Row("migration_graph() warm, read again (database touched)", warm, bare, note=_runs(runs)))
        cached, runs = timed(sandbox.migration_graph, None, repeats)
        self.rows.append(Row("migration_graph() warm, nothing changed (cache)", cached, bare, note=_runs(runs)))
        self._drawing("whole project", {}, touch)
        self._drawing("whole project, Django's own apps too", {"include_contrib": True}, touch)
        self._drawing(f"one app ({self.project.app_label})", {"app_label": self.project.app_label}, touch, target=False)

    def _cold_graph(self) -> dict:
        code = (
            "import json, sys, time\n"
            "started = time.perf_counter()\n"
            "from widgets import Sandbox\n"
            "from widgets.run import worker\n"
            "imported = time.perf_counter()\n"
            "sandbox = Sandbox.open(sys.argv[1], workspace=sys.argv[2])\n"
            "began = time.perf_counter()\n"
            "sandbox.migration_graph()\n"
            "took = time.perf_counter() - began\n"
            "worker.shutdown()\n"
            "print(json.dumps({'import': imported - started, 'graph': took}))\n"
        )
        return self._fresh(code, "migration_graph()", timeout=600)

    def cold(self, call: str) -> float:
        """Return the seconds of one call in a fresh interpreter (a new kernel), with no states kept on disk."""
        return self._call_after(OPENED, call)["call"]

    def reopened_after_warm_up(self, call: str) -> dict:
        """Time one call in a fresh interpreter once Sandbox.open's background warm-up is done (a learner reading)."""
        return self._call_after(OPENED_AND_WARM, call)

    def first_look(self, call: str) -> dict:
        """Time a new user's first two calls in a fresh interpreter: copy_of of the migrated project, then ``call``.

        The source is this sandbox, migrated: a real project with its database, as a developer copies theirs.
        """
        with tempfile.TemporaryDirectory(prefix="kit-first-look-") as elsewhere:
            return self._call_after(COPIED, call, extra=(str(self.sandbox.path), elsewhere))

    def _call_after(self, prelude: str, call: str, extra: tuple[str, ...] = ()) -> dict:
        """Time ``call`` in a fresh interpreter after ``prelude`` made ``sandbox``; return its times, in seconds."""
        shutil.rmtree(self.workspace / ".kit" / "sandboxes" / self.sandbox.name / "states", ignore_errors=True)
        code = FRESH_HEAD + prelude + f"started = time.perf_counter()\n{call}\n" + FRESH_TAIL
        return self._fresh(code, call, timeout=1800, extra=extra)

    def _fresh(self, code: str, what: str, timeout: float, extra: tuple[str, ...] = ()):
        """Run ``code`` in a fresh interpreter on this sandbox; return the JSON its last line prints."""
        done = subprocess.run(
            [sys.executable, "-c", code, self.sandbox.name, str(self.workspace), *extra],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cold {what} failed: {done.stderr[-800:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def time_timeline(self, loader: dict) -> None:
        """Time the time machine as a new kernel meets it (nothing kept on disk), then 20 slider steps."""
        code = (
            "import json, sys, time\n"
            "from widgets import Sandbox\n"
            "from widgets.read.timeline import read_timeline\n"
            "from widgets.run import worker\n"
            "sandbox = Sandbox.open(sys.argv[1], workspace=sys.argv[2])\n"
            "started = time.perf_counter()\n"
            "timeline = read_timeline(sandbox)\n"
            "from widgets.read.table import pandas_or_none\n"
            "pandas_or_none()  # the panel shows its tables as it opens: counted here, not in the first step\n"
            "first = time.perf_counter() - started\n"
            "steps = []\n"
            "for index in range(0, len(timeline.steps), max(1, len(timeline.steps) // 20)):\n"
            "    begun = time.perf_counter()\n"
            "    timeline.state_at(index)\n"
            "    timeline.compare(index - 1, index)\n"
            "    steps.append(time.perf_counter() - begun)\n"
            "worker.shutdown()\n"
            "print(json.dumps({'first': first, 'step': max(steps), 'steps': len(timeline.steps)}))\n"
        )
        runs = []
        for _ in range(self.repeats):
            shutil.rmtree(self.workspace / ".kit" / "sandboxes" / self.sandbox.name / "states", ignore_errors=True)
            runs.append(self._fresh(code, "read_timeline()", timeout=1800))
        first = statistics.median(run["first"] for run in runs)
        step = statistics.median(run["step"] for run in runs)
        each = ", ".join(f"{run['first']:.2f}" for run in runs)
        note = f"{runs[0]['steps']} steps; median of {_runs(len(runs))} ({each} s), each a fresh interpreter "
        note += "opening the sandbox, no states kept on disk"
        self.rows.append(Row("time machine (read_timeline)", None, None, "<= 5 s", first <= 5.0, note, first))
        self.rows.append(
            Row(
                "time machine, one slider step (worst of 20)", step, None, "<= 0.2 s", step <= 0.2, "median of the runs"
            )
        )

    def _drawing(self, what: str, options: dict, touch: Callable[[], None], target: bool = True) -> None:
        """Time read -> DOT -> SVG of one drawing and report the picture's size."""
        from widgets import draw_migration_graph
        from widgets.draw.render import to_svg

        sandbox = self.sandbox
        svg: list[str] = []
        total, runs = timed(lambda: svg.append(to_svg(draw_migration_graph(sandbox, **options))), touch, self.repeats)
        touch()
        started = time.perf_counter()
        graph = sandbox.migration_graph()
        read = time.perf_counter() - started
        dot = draw_migration_graph(graph, **options)
        drawn = time.perf_counter() - started - read
        to_svg(dot)
        layout = time.perf_counter() - started - read - drawn
        width, height = svg_size(svg[-1])
        stages = f"read {read:.2f} s, DOT {drawn:.2f} s, SVG {layout:.2f} s; {_runs(runs)}"
        self.rows.append(
            Row(
                f"draw_migration_graph: {what}, read -> DOT -> SVG",
                total,
                target="< 1 s warm" if target else "",
                met=total < 1.0 if target else None,
                note=stages,
            )
        )
        size_ok = max(width, height) <= MAX_PICTURE_PT
        self.rows.append(
            Row(
                f"picture size: {what}",
                f"{width:,.0f} x {height:,.0f} pt",
                target=f"<= {MAX_PICTURE_PT:,} pt a side" if target else "",
                met=size_ok if target else None,
            )
        )

    def time_commands(self, loader: dict) -> None:
        """Time showmigrations, sqlmigrate and plan through the kit and bare."""
        sandbox, app = self.sandbox, self.project.app_label
        print("  timing commands", flush=True)
        leaf = loader["leaf_nodes"][app][-1]
        app_target, target = self._target(loader, *self.project.rollbacks[0])
        commands = [
            ("showmigrations", lambda: _checked(sandbox.showmigrations()), ("showmigrations",)),
            (f"sqlmigrate {app} {leaf}", lambda: _checked(sandbox.sqlmigrate(app, leaf)), ("sqlmigrate", app, leaf)),
            (
                f"sandbox.plan('{app_target}', '{target}') vs bare `migrate {app_target} {target} --plan`",
                lambda: sandbox.plan(app_target, target),
                ("migrate", app_target, target, "--plan"),
            ),
        ]
        cold_calls = [
            "sandbox.showmigrations()",
            f"sandbox.sqlmigrate({app!r}, {leaf!r})",
            f"sandbox.plan({app_target!r}, {target!r})",
        ]
        for (what, kit, args), call in zip(commands, cold_calls, strict=True):
            cold = self.cold(call)
            kit()  # warm-up: the worker is running, the file cache is filled
            kit_time, kit_runs = timed(kit, None, self.repeats)
            bare, bare_runs = timed(lambda a=args: self.bare(*a), None, self.repeats)
            note = f"warm {_runs(kit_runs)}, cold 1 run"
            self.rows.append(Row(what, kit_time, bare, "<= 0.1x bare", kit_time <= 0.1 * bare, note, cold))

    def _target(self, loader: dict, app_label: str, target: str | int) -> tuple[str, str]:
        """Return (app_label, migration name or zero), walking back n migrations for an int."""
        if not isinstance(target, int):
            return app_label, target
        key = (app_label, loader["leaf_nodes"][app_label][-1])
        parents: dict[tuple, list[tuple]] = {}
        for parent, child in loader["edges"]:
            parents.setdefault(tuple(child), []).append(tuple(parent))
        for _ in range(target):
            key = max(p for p in parents[key] if p[0] == app_label)
        return app_label, key[1]

    def django_start(self) -> float:
        """Return the seconds a fresh interpreter takes to start the project's Django (``django.setup()``), once."""
        if self._django_start is None:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", "import django; django.setup()"],
                cwd=self.sandbox.path,
                env=self._env() | {"DJANGO_SETTINGS_MODULE": self.sandbox.settings_module},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=True,
                timeout=600,
            )
            self._django_start = time.perf_counter() - started
        return self._django_start

    def time_rollbacks(self, loader: dict) -> None:
        """Time rollback_preview against a terminal user's plan plus one sqlmigrate --backwards per step."""
        from widgets import rollback_preview

        start = self.django_start()
        self.rows.append(
            Row(
                "Django's own start in a fresh process (`django.setup()`), which every cold call below pays once",
                start,
                note="1 run; a bare command pays it before its work; the kit's cold calls below pay it once, "
                "in the warm zygote Sandbox.open starts in the background (with Django's modules imported already)",
            )
        )
        for app_label, spec in self.project.rollbacks:
            app_label, target = self._target(loader, app_label, spec)
            print(f"  timing rollback_preview {app_label} {target}", flush=True)
            steps = [s for s in self.dump("plan", app_label, target)["steps"] if s[2]]
            call = f"rollback_preview(sandbox, {app_label!r}, {target!r}, rehearse=False)"
            cold = self.cold(call)
            self._first_calls(app_label, target, call, spec if isinstance(spec, int) else len(steps))
            previews: list = []
            kit, runs = timed(
                lambda a=app_label, t=target, p=previews: p.append(
                    rollback_preview(self.sandbox, a, t, rehearse=False)
                ),
                None,
                self.repeats,
            )

            bare_sql: dict[tuple[str, str], str] = {}
            bare, bare_note = self._bare_rollback(app_label, target, steps, bare_sql)
            self._compare_sql(f"{app_label} {target}", previews[-1], bare_sql)
            back = f"{spec} back, " if isinstance(spec, int) else ""
            note = f"{back}{len(steps)} migrations unapplied; warm {_runs(runs)} (steps kept on disk), cold 1 run; "
            note += f"bare {bare_note}; cold: the call right after Sandbox.open in a fresh kernel"
            kit_steps = len(previews[-1].plan.steps)
            if kit_steps != len(steps):
                note += f"; the kit's plan has {kit_steps} steps"
            self.rows.append(Row(f"rollback_preview({app_label}, {target})", kit, bare, "< 1 s", kit < 1.0, note, cold))

    def _first_calls(self, app_label: str, target: str, call: str, steps: int) -> None:
        """Add the rows of a preview as the user meets it: right after copy_of, and in a kernel reopened a while ago.

        ``steps`` counts the app's migrations back (the issue's "preview of <= 25 steps").
        """
        first = self.first_look(call)
        budget = 10.0 if target == "zero" else 2.0 if steps <= 25 else None
        self.rows.append(
            Row(
                f"rollback_preview({app_label}, {target}): the first call after Sandbox.copy_of in a fresh kernel",
                None,
                target=f"<= {budget:g} s" if budget else "",
                met=first["call"] <= budget if budget else None,
                note=f"cold 1 run; copy_of (with rewrite_outside_paths) took {first['copy_of']:.2f} s before it",
                cold=first["call"],
            )
        )
        later = self.reopened_after_warm_up(call)
        self.rows.append(
            Row(
                f"rollback_preview({app_label}, {target}): a kernel that opened the sandbox once its warm-up ended",
                None,
                note=f"cold 1 run; Sandbox.open's background set-up of the project's Django took {later['warm_up']:.2f} s",
                cold=later["call"],
            )
        )

    def _compare_sql(self, what: str, preview, bare_sql: dict[tuple[str, str], str]) -> None:
        """Check each step's SQL in the preview is text-identical to bare `sqlmigrate --backwards`."""
        kit_sql = {(app, name): text for app, name, text in preview.sql}
        same = [key for key, text in bare_sql.items() if kit_sql.get(key) == text]
        differ = [_name(key) for key in bare_sql if key not in same]
        note = "bare steps that fail (no SQL) are left out" + (f"; differ: {', '.join(differ[:3])}" if differ else "")
        self.rows.append(
            Row(
                f"preview SQL = `sqlmigrate --backwards` text, rollback {what}",
                f"{len(same)} of {len(bare_sql)} steps identical",
                target="all identical",
                met=not differ,
                note=note,
            )
        )
        self.sql_differences += len(differ)

    def _bare_rollback(self, app_label: str, target: str, steps: list, sql: dict) -> tuple[float, str]:
        """Time `migrate --plan` plus one `sqlmigrate --backwards` per step; past BARE_STEPS, extrapolate."""
        from widgets.run.commands import stable_text

        started = time.perf_counter()
        self.bare("migrate", app_label, target, "--plan")
        plan = time.perf_counter() - started
        timed_steps = []
        for step_app, step_name, _backwards in steps[:BARE_STEPS]:
            started = time.perf_counter()
            done = self.bare("sqlmigrate", "--backwards", step_app, step_name, check=False)
            timed_steps.append(time.perf_counter() - started)
            if done.returncode == 0:
                sql[(step_app, step_name)] = stable_text(done.stdout, self.sandbox.path).strip()
        if len(steps) <= BARE_STEPS:
            return plan + sum(timed_steps), "1 run"
        estimate = plan + statistics.mean(timed_steps) * len(steps)
        return estimate, f"`--plan` and {BARE_STEPS} of {len(steps)} sqlmigrate runs timed, the rest extrapolated"

    def time_panel(self, loader: dict) -> None:
        """Time the panel's refresh after a migrate (the first rollback target, run for real)."""
        from widgets import MigrationLab

        sandbox = self.sandbox
        app_label, target = self._target(loader, *(self.project.panel or self.project.rollbacks[0]))
        print(f"  timing the panel refresh after migrate {app_label} {target}", flush=True)
        lab = MigrationLab(sandbox, app_label=app_label)
        before: list = []

        def migrate() -> None:
            sandbox.restore("migrated")
            before.append(sandbox.state())
            _checked(sandbox.migrate(app_label, target))

        took, runs = timed(lambda: lab.refresh(before[-1]), migrate, self.repeats)
        sandbox.restore("migrated")
        what = f"MigrationLab.refresh() after `migrate {app_label} {target}`"
        self.rows.append(Row(what, took, target="< 1 s", met=took < 1.0, note=_runs(runs)))

        # The panel's backwards migrate: it shows the rollback preview and waits for confirmation.
        lab.refresh()
        applied = sandbox.applied_migrations()

        def ask() -> None:
            lab.run_action("migrate", app_label=app_label, target=target)
            if lab.pending_rollback is None or "would unapply" not in lab.preview.value:
                raise RuntimeError(f"the panel showed no rollback preview: {lab.status.value[-300:]}")

        took, runs = timed(ask, lab.cancel, self.repeats)
        lab.cancel()
        if not sandbox.applied_migrations().equals(applied):
            raise RuntimeError("the panel's preview changed the applied migrations")
        note = f"{_runs(runs)}; cancelled each time, nothing unapplied; the panel's default preview (it rehearses "
        note += "the plan on a throw-away copy when the plan runs code)"
        what = f"MigrationLab migrate `{app_label} {target}`: backwards preview shown, waiting for confirmation"
        self.rows.append(Row(what, took, target="< 1 s", met=took < 1.0, note=note))

    def run(self) -> None:
        """Check the graph in three states, then time everything; record a failing step and go on."""
        started, load = time.perf_counter(), os.getloadavg()[0]
        try:
            self._run()
        finally:
            self.facts["measured"] = (
                f"Measured {datetime.date.today().isoformat()} in {(time.perf_counter() - started) / 60:.0f} min, "
                f"load average {load:.1f} before and {os.getloadavg()[0]:.1f} after; {versions()}."
            )

    def _run(self) -> None:
        loader = self._step("graph check", self.check_states)
        if loader is None:
            return
        for name, step in [
            ("graph timings", self.time_graph),
            ("command timings", self.time_commands),
            ("time machine", self.time_timeline),
            ("rollback previews", self.time_rollbacks),
            ("panel refresh", self.time_panel),
        ]:
            self._step(name, lambda s=step: s(loader))
        self.facts["apps"] = len({k[0] for k in loader["nodes"]})

    def _step(self, name: str, step: Callable[[], object]):
        try:
            return step()
        except Exception as error:
            traceback.print_exc()
            self.rows.append(Row(f"{name}: failed", None, note=f"{type(error).__name__}: {str(error)[-300:]}"))
            return None


def loader_dump(project: Path, settings_module: str, env: dict[str, str], *args: str) -> dict:
    """Run bench/loader_dump.py in a project with this interpreter and return its JSON answer."""
    done = subprocess.run(
        [sys.executable, str(LOADER_DUMP), *args],
        cwd=project,
        env=env | {"DJANGO_SETTINGS_MODULE": settings_module},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith(_DUMP_MARKER)), None)
    if line is None:
        raise RuntimeError(f"loader_dump.py {' '.join(args)} failed: {done.stderr[-800:]}")
    return json.loads(line[len(_DUMP_MARKER) :])


def parse_showmigrations(text: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Return the migrations `showmigrations` lists and those it marks [X], as (app_label, name)."""
    listed, ticked, app = set(), set(), None
    for line in text.splitlines():
        if line and not line[0].isspace():
            app = line.strip()
        elif app is not None and line.strip()[:1] == "[":
            mark, name = line.strip()[1], line.strip()[4:].split(" (", 1)[0]
            listed.add((app, name))
            if mark == "X":
                ticked.add((app, name))
    return listed, ticked


def _checked(result) -> None:
    """Stop the measurement if a kit command failed: a fast failure proves nothing."""
    if not result.ok:
        raise RuntimeError(result.terminal())


def pick_squash(loader: dict) -> tuple[str, tuple[str, str]] | None:
    """Return the squash that replaces the most migrations on disk, and the first one it replaces."""
    on_disk = {tuple(k) for k in loader["disk"]}
    best: tuple[str, list[tuple[str, str]]] | None = None
    for name, replaces in sorted(loader["replacements"].items()):
        replaced = [tuple(r) for r in replaces if tuple(r) in on_disk]
        if len(replaced) >= 2 and replaced[0] == tuple(replaces[0]) and (best is None or len(replaced) > len(best[1])):
            best = (name, replaced)
    return None if best is None else (best[0], best[1][0])


_SVG_SIZE = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"[^>]*?\sheight="([\d.]+)pt"', re.DOTALL)


def svg_size(svg: str) -> tuple[float, float]:
    """Return the width and height of an SVG drawn by Graphviz, in points."""
    match = _SVG_SIZE.search(svg)
    return (float(match.group(1)), float(match.group(2))) if match else (0.0, 0.0)


# ----- the report ------------------------------------------------------------------------------


def _value(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def project_section(bench: Bench) -> str:
    """Return one project's table and its graph differences as Markdown."""
    project, graph = bench.project, bench.facts.get("graph", {})
    squashes = len(graph.get("replacements", {}))
    out = [
        f"### {project.key}: {project.title}",
        "",
        f"{bench.facts.get('apps', '?')} apps with migrations, {len(graph.get('nodes', []))} nodes in Django's graph "
        f"when migrated, {squashes} squashed migration(s). {bench.facts.get('measured', '')}",
        "",
        "| what | cold | warm | bare | warm/bare | target | met | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for check in bench.checks:
        kit = f"{check.kit[0]} nodes, {check.kit[1]} edges" if check.kit else "-"
        django = f"{check.django[0]} nodes, {check.django[1]} edges" if check.django != (0, 0) else "-"
        skipped = check.kit is None and not check.differences
        met = None if skipped else not check.differences
        result = "skipped" if skipped else f"{len(check.differences)} differences; {kit}"
        out.append(
            f"| graph equality: {check.state} | - | {result} | Django: {django} | - | node for node, edge for edge "
            f"| {_met(met)} | {check.how} |"
        )
    for row in bench.rows:
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        out.append(
            f"| {row.what} | {_value(row.cold)} | {_value(row.kit)} | {_value(row.bare)} | {ratio} | {row.target} "
            f"| {_met(row.met)} | {row.note} |"
        )
    out.append("")
    for check in bench.checks:
        if check.differences:
            out.append(f"Differences with {check.state} (kit vs Django's MigrationLoader graph):")
            out += [f"- {line}" for line in summarize(check.differences)]
            out.append("")
    return "\n".join(out)


def _met(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: ""}[met]


def versions() -> str:
    """Return the versions of the packages that matter here."""
    from importlib import metadata

    found = []
    for name in DISTRIBUTIONS:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def report(parts: list[dict], repeats: int) -> str:
    """Return the whole real-projects section, between its markers, from each environment's part."""
    head = [
        START,
        "## Real projects (`bench/real_projects.py`, `make bench-real`)",
        "",
        f"Medians of {repeats} runs (a step slower than {SLOW:g} s is run once); {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}. Each project says when it "
        "was measured, the load around it and its packages (`--projects` measures some again and keeps the others). "
        '"warm" is the kit\'s Python API in a virtual environment outside the repository that has the projects '
        'installed from PyPI and the kit installed editable, called again in the same kernel; "cold" is the first '
        "call in a fresh interpreter (a new kernel: `import widgets`, the worker started, no states kept on disk); "
        '"bare" is the same `python manage.py ...` as a fresh '
        "process (for the graph: Django's MigrationLoader in a fresh process; for a rollback preview: `migrate "
        "--plan` and one `sqlmigrate --backwards` per step, as a terminal user would). The graph check compares "
        "`migration_graph()` with `MigrationLoader(connection).graph` after `build_graph`: node set, parent->child "
        "edges, leaf nodes per app, applied (on the nodes both have) and conflicts.",
        "",
    ]
    body = [section for part in parts for section in part["sections"]]
    return "\n".join(head + body + [END]) + "\n"


def project_blocks(section: str) -> tuple[str, dict[str, str]]:
    """Split the real-projects section into its head and each project's block, by the project's heading."""
    head, blocks, key = [], {}, None
    for line in section.splitlines(keepends=True):
        named = line.startswith("### ") and line[4:].split(":", 1)[0] in PROJECTS
        if named:
            key = line[4:].split(":", 1)[0]
            blocks[key] = ""
        if key is None:
            head.append(line)
        else:
            blocks[key] += line
    return "".join(head), blocks


def merged(old_section: str, new_section: str) -> str:
    """Return the new section with the old one's blocks of projects it did not measure, in PROJECTS order."""
    head, new_blocks = project_blocks(new_section.replace(END, "").rstrip("\n") + "\n\n")
    _, old_blocks = project_blocks(old_section.replace(END, "").rstrip("\n") + "\n\n")
    blocks = {**old_blocks, **new_blocks}
    body = "".join(blocks[key] for key in PROJECTS if key in blocks)
    return (head + body).rstrip("\n") + "\n\n" + END + "\n"


def write_section(text: str, path: Path) -> None:
    """Put the section into the results file, replacing the projects measured and keeping the rest."""
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if START in old and END in old:
        before, rest = old.split(START, 1)
        old_section, after = rest.split(END, 1)
        after = after.lstrip("\n")
        text = merged(START + old_section + END, text)
        new = before + text + (("\n" + after) if after else "")
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    path.write_text(new, encoding="utf-8")


def inside(args: argparse.Namespace) -> int:
    """Measure every chosen project in this environment; write its part (JSON) to args.part; return the exit code."""
    from widgets.run import worker

    benches = []
    with tempfile.TemporaryDirectory(prefix="kit-real-") as tmp:
        workspace = Path(tmp)
        os.environ["MIGRATION_KIT_WORKSPACE"] = str(workspace)
        for key in args.projects:
            print(f"{key}:", flush=True)
            bench = Bench(PROJECTS[key], args.cache / "projects" / key, workspace, args.repeats)
            bench.run()
            benches.append(bench)
            bench.sandbox.delete()
        worker.shutdown()
    part = {"sections": [project_section(bench) for bench in benches]}
    args.part.write_text(json.dumps(part), encoding="utf-8")
    differences = sum(len(c.differences) for b in benches for c in b.checks) + sum(b.sql_differences for b in benches)
    failed = any(r.what.endswith(": failed") for b in benches for r in b.rows)
    if differences:
        print(f"The kit's migration graph differs from Django's: {differences} differences.", file=sys.stderr)
    return 1 if differences or failed else 0


def main() -> int:
    """Make the environment (outside) or measure (inside it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="make the virtual environment and projects again")
    parser.add_argument("--projects", default=",".join(PROJECTS), help=f"comma-separated, from {', '.join(PROJECTS)}")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results file (default bench/results.md)")
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, default=cache_dir(), help=argparse.SUPPRESS)
    parser.add_argument("--part", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.projects = [p.strip() for p in args.projects.split(",") if p.strip()]
    unknown = [p for p in args.projects if p not in PROJECTS]
    if unknown:
        parser.error(f"unknown project(s) {', '.join(unknown)}; choose from {', '.join(PROJECTS)}")
    if args.no_write:
        args.output = None
    if args.inside:
        return inside(args)
    parts, code = [], 0
    environments = dict.fromkeys(PROJECTS[key].environment for key in args.projects)
    with tempfile.TemporaryDirectory(prefix="kit-real-parts-") as tmp:
        for environment in environments:
            python = ensure_environment(args.cache, args.rebuild, environment)
            chosen = [key for key in args.projects if PROJECTS[key].environment == environment]
            part = Path(tmp) / f"{environment}.json"
            forwarded = ["--inside", "--cache", str(args.cache), "--projects", ",".join(chosen)]
            forwarded += ["--repeats", str(args.repeats), "--part", str(part)]
            code = max(code, subprocess.run([str(python), str(Path(__file__).resolve()), *forwarded]).returncode)
            if part.is_file():
                parts.append(json.loads(part.read_text(encoding="utf-8")))
    text = report(parts, args.repeats)
    print("\n" + text)
    if args.output is not None:
        write_section(text, args.output)
        print(f"written to {args.output}")
    return code


if __name__ == "__main__":
    sys.exit(main())
