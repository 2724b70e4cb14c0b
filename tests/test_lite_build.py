"""The static site's build script without building: wheels rewritten, Pyodide's lock rewritten, inputs keyed."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import io
import shutil
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def build_lite():
    spec = importlib.util.spec_from_file_location("build_lite", REPO / "scripts" / "build_lite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_wheel(folder: Path, name: str, version: str, requires: list[str], modules: dict[str, str]) -> Path:
    """Write a small pure-Python wheel with the given requirements and modules; return its path."""
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    path = folder / f"{name.replace('-', '_').lower()}-{version}-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires) + "\nA description.\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for module, text in modules.items():
            wheel.writestr(module, text)
        wheel.writestr(f"{dist_info}/METADATA", metadata)
        wheel.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{dist_info}/RECORD", "")
    return path


def test_kit_wheel_carries_extra_files_and_browser_requirements(build_lite, tmp_path: Path):
    """Extra files land at the wheel's root, Requires-Dist is replaced, and RECORD matches every file."""
    source = make_wheel(tmp_path, "kit", "1.0", ["pandas>=2", "django>=5.2"], {"widgets/__init__.py": "X = 1\n"})
    target = tmp_path / "out.whl"
    build_lite.rewrite_wheel(source, target, {"sandbox_project/manage.py": b"print()\n"}, ["django>=5.2,<5.3"])
    with zipfile.ZipFile(target) as wheel:
        files = {name: wheel.read(name) for name in wheel.namelist()}
    assert files["sandbox_project/manage.py"] == b"print()\n"
    metadata = files["kit-1.0.dist-info/METADATA"].decode()
    assert "Requires-Dist: django>=5.2,<5.3" in metadata and "pandas" not in metadata
    assert metadata.endswith("A description.\n")
    for name, digest, size in csv.reader(io.StringIO(files["kit-1.0.dist-info/RECORD"].decode())):
        if name != "kit-1.0.dist-info/RECORD":
            expected = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(files[name]))
    assert set(files) == {name for name, *_ in csv.reader(io.StringIO(files["kit-1.0.dist-info/RECORD"].decode()))}


def test_lock_lists_exactly_the_shipped_wheels(build_lite, tmp_path: Path):
    """Dependencies follow Pyodide's markers and the shipped set; site wheels point into ../../pypi/."""
    lock_wheels = [
        make_wheel(tmp_path, "ipython", "9.0", ['pexpect>4; sys_platform != "emscripten"', "jedi"], {}),
        make_wheel(tmp_path, "jedi", "0.19", [], {"jedi/__init__.py": ""}),
    ]
    site_wheels = [make_wheel(tmp_path, "Django", "5.2", ["asgiref", 'tzdata; sys_platform == "win32"'], {})]
    original = {
        "info": {"python": "3.14.2", "platform": "emscripten"},
        "packages": {"ipython": {"imports": ["IPython"]}},
    }
    lock = build_lite.rewrite_lock(original, lock_wheels, site_wheels)
    packages = lock["packages"]
    assert lock["info"] == original["info"]
    assert {"ipython", "jedi", "django"} <= set(packages)
    assert packages["ipython"]["depends"] == ["jedi"]  # pexpect is not for emscripten
    assert packages["ipython"]["imports"] == ["IPython"]
    assert packages["jedi"]["imports"] == ["jedi"]
    assert packages["django"]["depends"] == []  # asgiref is not shipped here; tzdata is for Windows
    assert packages["django"]["file_name"] == "../../pypi/django-5.2-py3-none-any.whl"
    assert packages["jedi"]["sha256"] == hashlib.sha256(lock_wheels[1].read_bytes()).hexdigest()


def test_inputs_leave_out_caches_and_sandboxes(build_lite):
    """The build key covers the kit, lessons, template and pins, never bytecode, workspaces or databases."""
    names = [path.relative_to(REPO).as_posix() for path in build_lite.input_files()]
    assert "pyproject.toml" in names and "lite/wheels-site.txt" in names
    assert any(name.startswith("sandbox_project/") for name in names)
    assert any(name.startswith("notebooks/02-") for name in names)
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".sqlite3"))]
    assert build_lite.input_key() == build_lite.input_key()


def test_the_site_and_the_installed_kit_ship_the_same_graphviz(build_lite):
    """The wheel puts @viz-js/viz where the widgets look for it, at the version the installed kit's npm pins."""
    import json

    from widgets.lab.viz_widget import VIZ_SOURCES

    assert VIZ_SOURCES[0].relative_to(REPO).as_posix() == build_lite.VIZ_IN_WHEEL
    versions = {
        lock: json.loads((REPO / lock).read_text())["packages"]["node_modules/@viz-js/viz"]["version"]
        for lock in ("package-lock.json", "lite/package-lock.json")
    }
    assert len(set(versions.values())) == 1, versions


def test_precompile_adds_bytecode_pyodide_uses_and_drops_po_sources(build_lite, tmp_path: Path):
    """Each module gets an unchecked-hash .pyc for Pyodide's Python; .po sources go, .mo catalogues stay."""
    pyodide = REPO / "lite" / "node_modules" / "pyodide"
    if shutil.which("node") is None or not (pyodide / "pyodide.mjs").is_file():
        pytest.skip("needs node and Pyodide from npm (make lite installs it)")
    wheel = make_wheel(
        tmp_path,
        "demo",
        "1.0",
        [],
        {
            "demo/__init__.py": "VALUE = 1\n",
            "demo/locale/fr/LC_MESSAGES/django.po": "msgid x\n",
            "demo/locale/fr/LC_MESSAGES/django.mo": "binary",
        },
    )
    (result,) = build_lite.precompile(pyodide, [wheel], tmp_path / "work")
    with zipfile.ZipFile(result) as archive:
        names = set(archive.namelist())
        pyc = archive.read("demo/__pycache__/__init__.cpython-314.pyc")
        record = archive.read("demo-1.0.dist-info/RECORD").decode()
    assert "demo/locale/fr/LC_MESSAGES/django.mo" in names and "demo/__init__.py" in names, names
    assert "demo/locale/fr/LC_MESSAGES/django.po" not in names, names
    assert int.from_bytes(pyc[4:8], "little") == 1, pyc[:16]  # PEP 552: hash-based, source not checked
    assert "demo/__pycache__/__init__.cpython-314.pyc" in record, record


@pytest.mark.parametrize(
    "name, unread",
    [
        ("django/conf/locale/fr/LC_MESSAGES/django.po", True),
        ("django/conf/locale/fr/LC_MESSAGES/django.mo", False),  # Django needs LANGUAGE_CODE's catalogue
        ("django/conf/locale/fr/formats.py", False),
        ("django/contrib/admin/locale/fr/LC_MESSAGES/django.mo", True),
        ("django/contrib/admin/templates/admin/base.html", False),
        ("widgets/lab/static/vendor/viz.js", False),
        ("jedi/third_party/typeshed/third_party/requests/api.pyi", True),
        ("jedi/third_party/typeshed/third_party/README.txt", False),  # the folder jedi lists stays
        ("jedi/third_party/typeshed/stdlib/os/__init__.pyi", False),  # completion of the standard library
        ("jedi/third_party/django-stubs/django-stubs/db/models/base.pyi", False),  # and of Django
    ],
)
def test_only_files_nothing_reads_are_dropped(build_lite, name: str, unread: bool):
    assert build_lite.never_read(name) is unread
