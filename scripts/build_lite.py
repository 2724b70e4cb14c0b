"""Build the kit as a static JupyterLite site in lite/_output/ (make lite).

Everything comes from pinned packages on PyPI and npm; nothing is fetched by the
site at run time from any host but the one serving it:

- jupyterlite-core and the Pyodide kernel 0.8.6 in a build environment of their
  own (lite/.venv-build, lite/requirements-build.txt), with jupyter_server for
  the contents and jupyterlab_widgets and anywidget as federated extensions;
- Pyodide's core from the npm package ``pyodide`` at exactly the kernel's
  PYODIDE_VERSION (lite/package-lock.json), copied to static/pyodide/ with its
  pyodide-lock.json rewritten to list only the wheels this site ships;
- Graphviz as WebAssembly from the npm package ``@viz-js/viz`` (same lock), put
  into the kit's wheel beside its widgets' JavaScript: the page draws graphs
  with it (widgets/lab/viz_widget.py), the kernel sends it once per page;
- pure-Python wheels from PyPI with pinned hashes (lite/wheels-*.txt) and the
  kit's own wheel, built from pyproject.toml, which also carries the template
  project (sandbox_project/) and notebooks/projects/ at the places
  widgets/paths.py looks for them: beside the ``widgets`` package.

The build is clean every time (an incremental JupyterLite rebuild once dropped
pyodideUrl) and is skipped when its inputs hash to the key of the last build.
Run with ``--force`` to rebuild anyway.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LITE = REPO / "lite"
OUTPUT = LITE / "_output"
VENV = LITE / ".venv-build"
CACHE = LITE / ".cache"
KEY_FILE = OUTPUT / ".build-key"
PYODIDE_VERSION = "314.0.6"  # jupyterlite-pyodide-kernel 0.8.6's PYODIDE_VERSION (checked below)
PYODIDE_FILES = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide.js",
    "package.json",
]
KIT_NAME = "django-migrations-kit"
# What the kit needs in the browser: no pandas, pygraphviz, PostgreSQL or servers (no wasm wheels offline).
# tzdata: Pyodide has no system time zone database, and a page rendered with USE_TZ needs zoneinfo's.
KIT_BROWSER_REQUIRES = [
    "django>=5.2,<5.3", "ipywidgets>=8.1,<9", "anywidget>=0.9,<0.12", "graphviz>=0.20,<0.22", "tzdata",
]  # fmt: skip
KERNEL_EXTENSION = "@jupyterlite/pyodide-kernel-extension"
KERNEL_WHEELS = {"piplite", "pyodide_kernel", "ipykernel"}
JEDI_THIRD_PARTY_STUBS = "jedi/third_party/typeshed/third_party/"
JEDI_STUBS_NOTE = b"make lite left out the stubs of third-party packages: the site does not ship them.\n"
# Graphviz as WebAssembly: the npm file, and where in the kit's wheel widgets/lab/viz_widget.py looks for it.
VIZ_NPM = Path("@viz-js") / "viz" / "dist" / "viz.js"
VIZ_IN_WHEEL = "widgets/lab/static/vendor/viz.js"
# Folders the kit reads beside its package (widgets/paths.py: REPO_ROOT / ...), shipped inside its wheel.
KIT_DATA = ["sandbox_project", "notebooks/projects"]
# The inputs of a build: a change to any of them makes the next `make lite` rebuild.
INPUTS = [
    "pyproject.toml",
    "README.md",
    "widgets",
    "sandbox_project",
    "notebooks",
    "scripts/build_lite.py",
    "lite/requirements-build.txt",
    "lite/wheels-lock.txt",
    "lite/wheels-site.txt",
    "lite/wheels-test.txt",
    "lite/package.json",
    "lite/package-lock.json",
    "lite/jupyter-lite.json",
    "lite/overrides.json",
    "lite/sitecustomize.py",
]
IGNORED = re.compile(
    r"(^|/)(__pycache__|\.ipynb_checkpoints|workspace|\.pytest_cache)(/|$)|\.pyc$|\.sqlite3(-journal)?$"
)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if the inputs did not change")
    args = parser.parse_args()
    key = input_key()
    if not args.force and KEY_FILE.is_file() and KEY_FILE.read_text().strip() == key:
        print(f"lite/_output is up to date (inputs {key[:12]}); make lite-serve serves it.")
        return 0
    python = build_venv()
    started = time.monotonic()
    # The rest needs the build environment's packages (packaging for markers): run it there.
    subprocess.run([str(python), __file__, "--inside", key], check=True)
    print(f"Built lite/_output in {time.monotonic() - started:.0f} s ({tree_size(OUTPUT) / 1e6:.1f} MB).")
    return 0


def input_files() -> list[Path]:
    """Return every input file of a build, sorted, without caches or learners' files."""
    files = []
    for name in INPUTS:
        path = REPO / name
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for candidate in candidates:
            relative = candidate.relative_to(REPO).as_posix()
            if candidate.is_file() and not IGNORED.search(relative):
                files.append(candidate)
    return files


def input_key() -> str:
    """Return a hash of the build's inputs: their paths and bytes."""
    digest = hashlib.sha256()
    for path in input_files():
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_venv() -> Path:
    """Create lite/.venv-build from lite/requirements-build.txt unless it matches already; return its python."""
    requirements = LITE / "requirements-build.txt"
    stamp = VENV / f".installed-{hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]}"
    python = VENV / "bin" / "python"
    if not stamp.exists():
        shutil.rmtree(VENV, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(VENV)])
        run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(requirements)])
        stamp.touch()
    return python


def run(command: list[str], **kwargs) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- inside the build environment -------------------------------------------------------------


def build(key: str) -> None:
    """Build the site clean into lite/_output and record the inputs' key."""
    check_kernel_pins()
    pyodide = npm_pyodide()
    lock_wheels = download_wheels("lock")
    site_wheels = download_wheels("site")
    download_wheels("test")  # pytest and its deps for scripts/pyodide_node.mjs; not shipped in the site
    with tempfile.TemporaryDirectory(prefix="lite-build-") as tmp:
        tmp = Path(tmp)
        kit = kit_wheel(tmp / "kit")
        stage = tmp / "stage"
        (stage / "static" / "pyodide").mkdir(parents=True)
        (stage / "pypi").mkdir()
        for name in PYODIDE_FILES:
            shutil.copy2(pyodide / name, stage / "static" / "pyodide" / name)
        for wheel in lock_wheels:
            shutil.copy2(wheel, stage / "static" / "pyodide" / wheel.name)
        for wheel in [*site_wheels, kit]:
            shutil.copy2(wheel, stage / "pypi" / wheel.name)
        # Bytecode and no translators' sources in every wheel the kernel loads: see precompile().
        lock_wheels = precompile(pyodide, sorted((stage / "static" / "pyodide").glob("*.whl")), tmp / "pyc")
        site_wheels = precompile(pyodide, sorted((stage / "pypi").glob("*.whl")), tmp / "pyc")
        kit = next(w for w in site_wheels if w.name.startswith(KIT_NAME.replace("-", "_") + "-"))
        site_wheels = [w for w in site_wheels if w != kit]
        original = json.loads((pyodide / "pyodide-lock.json").read_text())
        lock = rewrite_lock(original, lock_wheels, [*site_wheels, kit])
        (stage / "static" / "pyodide" / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))
        shutil.copy2(LITE / "jupyter-lite.json", stage / "jupyter-lite.json")
        shutil.copy2(LITE / "overrides.json", stage / "overrides.json")
        shutil.rmtree(OUTPUT, ignore_errors=True)
        jupyter = Path(sys.executable).parent / "jupyter"
        log = CACHE / "jupyter-lite-build.log"
        print(f"+ jupyter lite build (log: {log.relative_to(REPO)})", flush=True)
        command = [
            str(jupyter), "lite", "build", "--lite-dir", str(stage), "--output-dir", str(OUTPUT),
            "--contents", str(dated_contents(tmp / "contents")), "--no-sourcemaps",
            "--extra-ignore-contents", r"(^|/)(__pycache__|workspace)(/|$)|\.pyc$|\.sqlite3(-journal)?$",
        ]  # fmt: skip
        with log.open("w") as out:
            result = subprocess.run(
                command, cwd=stage, env={**os.environ, "SOURCE_DATE_EPOCH": lessons_date()}, stdout=out, stderr=out
            )
        if result.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
            sys.exit(f"jupyter lite build failed ({result.returncode}); the end of {log}:\n{tail}")
    compile_stdlib(pyodide)
    check_output()
    KEY_FILE.write_text(key + "\n")


def check_kernel_pins() -> None:
    """Fail early if the installed kernel expects another Pyodide than the one pinned here."""
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION as kernel_pyodide

    if kernel_pyodide != PYODIDE_VERSION:
        sys.exit(
            f"jupyterlite-pyodide-kernel wants Pyodide {kernel_pyodide}; lite/package.json pins {PYODIDE_VERSION}."
        )


def npm_pyodide() -> Path:
    """Install Pyodide's core from npm into lite/node_modules at the locked version; return its folder."""
    folder = LITE / "node_modules" / "pyodide"
    stamp = LITE / "node_modules" / f".installed-{sha256(LITE / 'package-lock.json')[:16]}"
    if not stamp.exists():
        run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=LITE)
        stamp.touch()
    version = json.loads((folder / "package.json").read_text())["version"]
    if version != PYODIDE_VERSION:
        sys.exit(f"lite/node_modules has Pyodide {version}, the kernel needs {PYODIDE_VERSION}.")
    return folder


def download_wheels(group: str) -> list[Path]:
    """Download the pure-Python wheels pinned (with hashes) in lite/wheels-GROUP.txt; return them."""
    requirements = LITE / f"wheels-{group}.txt"
    target = CACHE / "wheels" / group
    pins = {
        canonical(m.group(1)): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", requirements.read_text(), re.M)
    }
    have = {canonical(w.name.split("-")[0]): w for w in target.glob("*.whl")} if target.exists() else {}
    if set(have) != set(pins) or any(w.name.split("-")[1] != pins[n] for n, w in have.items()):
        shutil.rmtree(target, ignore_errors=True)
        run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                "--only-binary=:all:", "--implementation", "py", "--python-version", "3.14", "--abi", "none",
                "--platform", "any", "--require-hashes", "-r", str(requirements), "-d", str(target),
            ]
        )  # fmt: skip
    return sorted(target.glob("*.whl"))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dated_contents(folder: Path) -> Path:
    """Copy the lessons into ``folder`` with every file dated lessons_date(): the site lists that date, not 1980."""
    skip = shutil.ignore_patterns("__pycache__", "workspace", "*.pyc", "*.sqlite3", "*.sqlite3-journal")
    shutil.copytree(REPO / "notebooks", folder, ignore=skip, symlinks=True)
    when = int(lessons_date())
    for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders: setting a date inside moves it
        os.utime(path, (when, when), follow_symlinks=False)
    return folder


def lessons_date() -> str:
    """Return the time of the last commit that changed the lessons (seconds), the files' date in the site.

    Reproducible for a commit, and what a learner's file browser shows as "modified" (1980 read "46y ago").
    Without git history (an unpacked archive), the zip epoch, 1980.
    """
    try:
        found = subprocess.run(
            ["git", "log", "-1", "--format=%ct", "--", "notebooks"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        found = ""
    return found if found.isdigit() else "315532800"


def kit_wheel(folder: Path) -> Path:
    """Build the kit's wheel from a copy of its sources, then add the template project and the example projects."""
    source = folder / "source"
    source.mkdir(parents=True)
    for name in ["pyproject.toml", "README.md", "LICENSE"]:
        if (REPO / name).exists():
            shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "widgets", source / "widgets", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps", "-w",
         str(folder / "dist"), str(source)],
        env={**os.environ, "SOURCE_DATE_EPOCH": "315532800"},
    )  # fmt: skip
    (built,) = (folder / "dist").glob("*.whl")
    with zipfile.ZipFile(built) as wheel:
        names = set(wheel.namelist())
    missing = [
        p.relative_to(REPO).as_posix()
        for p in sorted((REPO / "widgets").rglob("*.py"))
        if "__pycache__" not in p.parts and p.relative_to(REPO).as_posix() not in names
    ]
    if missing:
        sys.exit(
            f"The kit's wheel lacks {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}: "
            "list every subpackage of widgets/ in pyproject.toml ([tool.setuptools] packages)."
        )
    # From lite/node_modules, installed with Pyodide by npm_pyodide() at the version lite/package-lock.json pins.
    extra = {VIZ_IN_WHEEL: (LITE / "node_modules" / VIZ_NPM).read_bytes()}
    for name in KIT_DATA:
        for path in sorted((REPO / name).rglob("*")):
            relative = path.relative_to(REPO).as_posix()
            if path.is_file() and not IGNORED.search(relative):
                extra[relative] = path.read_bytes()
    out = folder / built.name
    rewrite_wheel(built, out, extra, KIT_BROWSER_REQUIRES)
    return out


def rewrite_wheel(
    source: Path, target: Path, extra: dict[str, bytes], requires: list[str] | None, drop=lambda name: False
) -> None:
    """Copy a wheel with extra files (and new Requires-Dist lines if given), fixed timestamps and a matching RECORD."""
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as wheel:
        for info in wheel.infolist():
            if not info.is_dir() and not drop(info.filename):
                files[info.filename] = wheel.read(info)
    dist_info = next(name.split("/")[0] for name in files if name.endswith(".dist-info/METADATA"))
    if requires is not None:
        metadata = files[f"{dist_info}/METADATA"].decode()
        head, _, body = metadata.partition("\n\n")
        head_lines = [line for line in head.splitlines() if not line.startswith(("Requires-Dist:", "Provides-Extra:"))]
        head_lines += [f"Requires-Dist: {requirement}" for requirement in requires]
        files[f"{dist_info}/METADATA"] = ("\n".join(head_lines) + "\n\n" + body).encode()
    files.update(extra)
    record_name = f"{dist_info}/RECORD"
    rows = []
    for name in sorted(files):
        if name != record_name:
            digest = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=").decode()
            rows.append([name, f"sha256={digest}", str(len(files[name]))])
    rows.append([record_name, "", ""])
    record = io.StringIO()
    csv.writer(record, lineterminator="\n").writerows(rows)
    files[record_name] = record.getvalue().encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            wheel.writestr(info, files[name])


# Inside Pyodide, for the scripts below: a module's bytes as an unchecked-hash .pyc (PEP 552: flags 1, used
# without reading the source, valid whatever the unpacked files' times).
PYC_PY = r"""
import importlib.util, marshal


def pyc(code, source):
    return importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little") + importlib.util.source_hash(source) + marshal.dumps(code)
"""

# Inside Pyodide under Node: compile each module of the wheels in SOURCES (argv) to a .pyc, written to
# OUT/<wheel>/<folder>/__pycache__/<module>.<cache tag>.pyc. PYTHONHASHSEED=0: same bytes every build.
COMPILE_PY = (
    PYC_PY
    + r"""
import os, sys, zipfile
out, wheels = sys.argv[1], sys.argv[2:]
tag = sys.implementation.cache_tag
for wheel in wheels:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.endswith(".py") or name.startswith(tuple(KIT_DATA)):
                continue
            source = archive.read(name)
            try:
                code = compile(source, "/lib/python3.14/site-packages/" + name, "exec", dont_inherit=True)
            except SyntaxError:
                continue  # a template or test file that is not Python 3.14: it compiles (and fails) when imported
            folder, _, module = name.rpartition("/")
            target = os.path.join(out, os.path.basename(wheel), folder, "__pycache__", f"{module[:-3]}.{tag}.pyc")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as written:
                written.write(pyc(code, source))
"""
)
COMPILE_JS = r"""
const [indexURL, mount, code, ...args] = process.argv.slice(1);
const { pathToFileURL } = await import("node:url");
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const pyodide = await loadPyodide({ indexURL, env: { PYTHONHASHSEED: "0" }, args: [] });
pyodide.FS.mkdirTree(mount);
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: mount }, mount);
pyodide.globals.set("ARGV", pyodide.toPy(args));
pyodide.runPython("import sys; sys.argv = ['compile', *ARGV]; del ARGV");
pyodide.runPython(code);
"""


def precompile(pyodide: Path, wheels: list[Path], work: Path) -> list[Path]:
    """Add bytecode compiled by Pyodide itself to each wheel, drop translators' .po sources; return the wheels.

    No wheel on PyPI ships bytecode, so without this the kernel compiles every module it imports, in
    WebAssembly, at every page load (IPython alone: 9.5 s -> 3.4 s in Node with it). Sources stay, for
    tracebacks. Files that nothing reads in the browser go: see never_read().
    """
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    code = COMPILE_PY.replace("tuple(KIT_DATA)", repr(tuple(f"{name}/" for name in KIT_DATA)))
    index = str(pyodide.resolve()) + os.sep
    mount = os.path.commonpath([work, *wheels])  # NODEFS: the wheels and the output at their own paths
    print(f"+ compile {len(wheels)} wheels to bytecode inside Pyodide (node)", flush=True)
    command = ["node", "--input-type=module", "-e", COMPILE_JS, index, mount, code, str(out), *map(str, wheels)]
    subprocess.run(command, check=True)
    for wheel in wheels:
        compiled = out / wheel.name
        extra = {p.relative_to(compiled).as_posix(): p.read_bytes() for p in sorted(compiled.rglob("*.pyc"))}
        if wheel.name.startswith("jedi-"):
            extra[JEDI_THIRD_PARTY_STUBS + "README.txt"] = JEDI_STUBS_NOTE  # jedi lists this folder: it must be
        rewritten = work / wheel.name
        rewrite_wheel(wheel, rewritten, extra, None, drop=never_read)
        shutil.move(rewritten, wheel)
    return wheels


def wheel_metadata(path: Path) -> tuple[str, str, list[str], list[str]]:
    """Return a wheel's project name, version, requirements (raw) and top-level import names."""
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
        top_level = f"{dist_info}/top_level.txt"
        if top_level in names:
            imports = [line.strip() for line in wheel.read(top_level).decode().splitlines() if line.strip()]
        else:
            imports = sorted(
                {n.split("/")[0] for n in names if n.endswith("/__init__.py") and n.count("/") == 1}
                | {n[:-3] for n in names if "/" not in n and n.endswith(".py")}
            )
    head = metadata.partition("\n\n")[0]
    fields = [line.split(":", 1) for line in head.splitlines() if ":" in line]
    name = next(v.strip() for k, v in fields if k == "Name")
    version = next(v.strip() for k, v in fields if k == "Version")
    requires = [v.strip() for k, v in fields if k == "Requires-Dist"]
    return name, version, requires, imports


def never_read(name: str) -> bool:
    """Tell whether a wheel's file is one the site never reads: some translations, stubs of absent packages.

    gettext reads only compiled .mo catalogues: Django's 1,226 .po files are 2.7 MB of download and
    8.8 MB to unpack. The contrib apps' catalogues (admin, auth, humanize...: 1.9 MB, 1,000 files)
    translate pages that no server renders here. Django's own (django/conf/locale) stay: with no
    catalogue at all for LANGUAGE_CODE, Django raises OSError at its first translated string.
    jedi's typeshed stubs for third-party packages (requests, six, ...: 649 files) describe packages
    the site does not ship; its stubs of the standard library and of Django stay, for completion.
    Each file costs the kernel's start time to unpack, at every visit.
    """
    if name.startswith(JEDI_THIRD_PARTY_STUBS):
        return not name.endswith("/README.txt")
    if "/locale/" not in name:
        return False
    return name.endswith(".po") or (name.startswith("django/contrib/") and name.endswith(".mo"))


# Inside Pyodide under Node, with the built site's wheels: do what the kernel does when it starts and what
# a lesson's setup cell does, then list the standard library's modules that were imported.
TRACE_PY = r"""
import os, sys
os.environ["MIGRATION_KIT_WORKSPACE"] = "/tmp/kit-trace"
streams = sys.stdout, sys.stderr
import piplite, pyodide_kernel
sys.stdout, sys.stderr = streams  # the kernel's streams publish to a page that is not there: errors would vanish
import ipywidgets, anywidget, widgets.lab.panels, widgets.lab.viz_widget, widgets.draw.graphs  # need a page
from widgets import Sandbox, migrations_table, rollback_preview
sandbox = Sandbox.fresh("trace")
sandbox.manage("loaddata", "boards_demo")
sandbox.manage("showmigrations")
sandbox.manage("sqlmigrate", "boards", "0001")
sandbox.migration_graph()
migrations_table(sandbox)
rollback_preview(sandbox, "boards", "0001")
zip_path = f"/lib/python{sys.version_info.major}{sys.version_info.minor}.zip/"
files = sorted({m.__file__[len(zip_path):] for m in list(sys.modules.values())
                if (getattr(m, "__file__", None) or "").startswith(zip_path)})
with open("stdlib-imported.txt", "w") as out:
    out.write("\n".join(files) + "\n")
"""


def compile_stdlib(pyodide: Path) -> None:
    """Add the kernel's start-up finder and bytecode for what the kernel and a lesson import to python_stdlib.zip.

    lite/sitecustomize.py, which Python imports when Pyodide starts, spares the kernel's start about a
    hundred requests to the page (see its docstring).

    Pyodide's standard library is sources only, so each start compiled the 287 modules it imports
    again (Node: a kernel and a lesson's imports 10.5 -> 6.8 s with bytecode). Bytecode for all of it
    would add 4.5 MB; for what is imported, 3.0 MB. zipimport takes ``name.pyc`` beside ``name.py`` first, and
    an unchecked-hash .pyc (PEP 552) is used as it is.
    """
    kernel = json.loads((LITE / "jupyter-lite.json").read_text())["jupyter-config-data"]["litePluginSettings"]
    packages = kernel[f"{KERNEL_EXTENSION}:kernel"]["loadPyodideOptions"]["packages"]
    with tempfile.TemporaryDirectory(prefix="lite-trace-") as work:
        work = Path(work)
        (work / "trace.py").write_text(TRACE_PY)
        (work / "compile.py").write_text(STDLIB_PY)
        runner = ["node", str(REPO / "scripts" / "pyodide_node.mjs"), "--site", str(OUTPUT)]
        print("+ trace what the kernel and a lesson import, inside Pyodide (node)", flush=True)
        subprocess.run([*runner, "--load", ",".join(packages), "trace.py"], cwd=work, check=True)
        shutil.copy2(pyodide / "python_stdlib.zip", work / "python_stdlib.zip")
        shutil.copy2(LITE / "sitecustomize.py", work / "sitecustomize.py")
        # PYTHONHASHSEED=0: sets in constants marshal in a fixed order, so two builds give the same bytes.
        subprocess.run([*runner, "--env", "PYTHONHASHSEED=0", "compile.py"], cwd=work, check=True)
        shutil.copy2(work / "stdlib-compiled.zip", OUTPUT / "static" / "pyodide" / "python_stdlib.zip")


# Inside Pyodide: copy python_stdlib.zip with sitecustomize.py added, and NAME.pyc beside it and beside each
# NAME.py listed in stdlib-imported.txt.
STDLIB_PY = (
    PYC_PY
    + r"""
import sys, zipfile
wanted = set(open("stdlib-imported.txt").read().split())
prefix = f"/lib/python{sys.version_info.major}{sys.version_info.minor}.zip/"
with zipfile.ZipFile("python_stdlib.zip") as source, zipfile.ZipFile("stdlib-compiled.zip", "w") as target:
    infos = source.infolist()
    added = zipfile.ZipInfo("sitecustomize.py", infos[0].date_time)
    for info, data in [*((i, source.read(i)) for i in infos), (added, open("sitecustomize.py", "rb").read())]:
        target.writestr(info, data, zipfile.ZIP_DEFLATED)
        if info.filename in wanted or info is added:
            code = compile(data, prefix + info.filename, "exec", dont_inherit=True)
            compiled = zipfile.ZipInfo(info.filename[:-3] + ".pyc", info.date_time)
            target.writestr(compiled, pyc(code, data), zipfile.ZIP_DEFLATED)
"""
)


def kernel_wheels() -> list[Path]:
    """Return the kernel's own wheels (piplite, pyodide-kernel, the ipykernel stub) as its extension ships them."""
    folder = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / KERNEL_EXTENSION / "static" / "pypi"
    return sorted(p for p in folder.glob("*.whl") if p.name.split("-")[0] in KERNEL_WHEELS)


def rewrite_lock(original: dict, lock_wheels: list[Path], site_wheels: list[Path]) -> dict:
    """Return Pyodide's lock listing exactly the shipped wheels, each where the site has it.

    The lock's own wheels sit beside it; the site's are those of ../../pypi/ and the kernel's
    those of its extension, so that the kernel can preload them all in one go
    (loadPyodideOptions.packages) instead of installing them one after the other.
    """
    from packaging.requirements import Requirement

    # Pyodide's environment, for markers such as sys_platform != "emscripten".
    python = original["info"]["python"]
    environment = {
        "sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
        "platform_machine": "wasm32", "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python, "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "extra": "",
    }  # fmt: skip
    entries = {}
    placed = [(w, "") for w in lock_wheels] + [(w, "../../pypi/") for w in site_wheels]
    placed += [(w, f"../../extensions/{KERNEL_EXTENSION}/static/pypi/") for w in kernel_wheels()]
    for wheel, prefix in placed:
        name, version, requires, imports = wheel_metadata(wheel)
        known = original["packages"].get(canonical(name), {})
        depends = []
        for raw in requires:
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                depends.append(canonical(requirement.name))
        entries[canonical(name)] = {
            "name": name,
            "version": version,
            "file_name": prefix + wheel.name,
            "install_dir": "site",
            "sha256": sha256(wheel),
            "package_type": "package",
            "imports": known.get("imports") or imports,
            "depends": depends,
            "unvendored_tests": False,
        }
    # Only dependencies the site ships (widgetsnbextension comes from the kernel's own index).
    for entry in entries.values():
        entry["depends"] = sorted(d for d in dict.fromkeys(entry["depends"]) if d in entries)
    return {"info": original["info"], "packages": dict(sorted(entries.items()))}


def check_output() -> None:
    """Fail if the built site could reach for anything outside itself."""
    config = json.loads((OUTPUT / "jupyter-lite.json").read_text())
    settings = config["jupyter-config-data"]["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    problems = []
    if settings.get("pyodideUrl") != "./static/pyodide/pyodide.mjs":
        problems.append(f"pyodideUrl is {settings.get('pyodideUrl')!r}")
    if settings.get("disablePyPIFallback") is not True:
        problems.append("disablePyPIFallback is not true")
    if not any(url.startswith("./pypi/") for url in settings.get("pipliteUrls", [])):
        problems.append(f"pipliteUrls lacks ./pypi/all.json: {settings.get('pipliteUrls')}")
    lock = json.loads((OUTPUT / "static" / "pyodide" / "pyodide-lock.json").read_text())
    for entry in lock["packages"].values():
        path = (OUTPUT / "static" / "pyodide" / entry["file_name"]).resolve()
        if not path.is_file() or sha256(path) != entry["sha256"]:
            problems.append(f"the lock's {entry['file_name']} is missing or has another hash")
    kit = sorted((OUTPUT / "pypi").glob(f"{KIT_NAME.replace('-', '_')}-*.whl"))
    with zipfile.ZipFile(kit[-1]) as wheel:
        if VIZ_IN_WHEEL not in wheel.namelist():
            problems.append(f"the kit's wheel lacks {VIZ_IN_WHEEL}: the page could not draw graphs")
    # Lessons sit at the contents' root: lab/index.html?path=02-adding-the-views-field.ipynb opens lesson 02.
    listing = json.loads((OUTPUT / "api" / "contents" / "all.json").read_text())
    if "02-adding-the-views-field.ipynb" not in {item["name"] for item in listing["content"]}:
        problems.append("lesson 02 is not at the root of the site's contents")
    if problems:
        sys.exit("The built site is not self-contained:\n- " + "\n- ".join(problems))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        build(sys.argv[2])
    else:
        sys.exit(main())
