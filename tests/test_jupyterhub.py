"""A real JupyterHub from classroom/jupyterhub_config.py: three learners run a lesson at once and never touch.

The hub, its configurable-http-proxy and every learner's server and kernel are real
processes on loopback. Each learner starts a server through the hub's REST API, opens
the lesson copied into their home through their server's REST API, and runs its cells
in a kernel over the websocket, through the proxy, as JupyterLab does.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import tree_digest

from widgets import Sandbox
from widgets.sandbox.paths import REPO_ROOT, TEMPLATE_DIR

CONFIG = REPO_ROOT / "classroom" / "jupyterhub_config.py"
PROXY = REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
JUPYTERHUB = Path(sys.executable).with_name("jupyterhub")
LESSON = "02-adding-the-views-field"
NOTEBOOK = f"notebooks/{LESSON}.ipynb"
USERS = ("alice", "bob", "carol")
PASSWORD = "shared-class-password"
# What each learner does after the lesson, so that their databases differ where they should.
AFTERWARDS = {
    "alice": "",
    "bob": 'rolled_back = sandbox.migrate("boards", "0002")\nassert rolled_back.ok, rolled_back.output',
    "carol": 'for _ in range(2):\n    sandbox.get("/boards/1/topics/1/")',
}
REPORT = """\
import json, os
from widgets import Sandbox
from widgets.sandbox.paths import workspace_root
print(json.dumps({"workspace": str(workspace_root()), "sandbox": str(sandbox.path), "names": Sandbox.names(),
                  "home": os.environ["HOME"], "user": os.environ["JUPYTERHUB_USER"], "cwd": os.getcwd()}))
"""
# What the hub itself keeps in its state folder; nothing of the learners belongs there.
HUB_FILES = {"jupyterhub.sqlite", "jupyterhub_cookie_secret", "jupyterhub-proxy.pid"}
STEP_TIMEOUT = 120

pytestmark = [
    pytest.mark.processes("a JupyterHub runs as processes"),
    pytest.mark.skipif(
        find_spec("jupyterhub") is None, reason="jupyterhub is not installed: pip install -e '.[classroom]'"
    ),
    pytest.mark.skipif(
        shutil.which("node") is None, reason="Node.js is not installed: configurable-http-proxy needs it"
    ),
    pytest.mark.skipif(
        not PROXY.exists(), reason="configurable-http-proxy is not in node_modules/: make test installs it with npm ci"
    ),
]


@dataclass
class Cell:
    """What one executed cell gave back."""

    status: str
    errors: list[str] = field(default_factory=list)
    stdout: str = ""


@dataclass
class Learner:
    """What one learner's run through the hub gave back."""

    name: str
    login: dict[str, int] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    report: dict = field(default_factory=dict)


@dataclass
class Classroom:
    """A finished class: where it lived, what each learner saw, what was left running."""

    root: Path
    homes: Path
    state: Path
    trap: Path
    learners: dict[str, Learner]
    code_cells: int
    leftovers: list[str]
    before: dict
    after: dict


def free_ports(count: int) -> list[int]:
    """Return distinct free TCP ports on loopback."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def repository_state() -> dict:
    """Return what must not change in the repository: git status, the template, the default folders."""
    status = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True)
    folders = {name: REPO_ROOT / name for name in ("workspace", "classroom/homes", "classroom/state")}
    return {
        "git status": status.stdout if status.returncode == 0 else None,
        "template": tree_digest(TEMPLATE_DIR),
        **{name: tree_digest(path) if path.exists() else None for name, path in folders.items()},
    }


def processes_mentioning(marker: str) -> dict[int, str]:
    """Return pid -> command line of every process whose environment or command line holds marker."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ or marker.encode() in cmdline:
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def reap(marker: str, grace: float = 20.0) -> list[str]:
    """Wait for every process of the class to end; kill and return those still running after grace seconds."""
    deadline = time.monotonic() + grace
    while (left := processes_mentioning(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return sorted(left.values())


def stop_hub(hub: subprocess.Popen) -> None:
    """Stop the hub as a teacher's Ctrl-C would; it stops the proxy and every learner's server."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGINT)
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
            hub.wait(timeout=10)


class Hub:
    """The hub's and the learners' servers' REST APIs, and kernels, through the proxy."""

    def __init__(self, url: str, admin_token: str) -> None:
        from tornado.httpclient import AsyncHTTPClient

        self.url = url
        self.admin_token = admin_token
        self.http = AsyncHTTPClient()

    async def call(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
        """Send one REST request with a token and return the status and the JSON answer."""
        from tornado.httpclient import HTTPRequest

        request = HTTPRequest(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {token}"},
            body=json.dumps(body) if body is not None else (b"" if method == "POST" else None),
            request_timeout=STEP_TIMEOUT,
            follow_redirects=False,
        )
        response = await self.http.fetch(request, raise_error=False)
        text = response.body.decode() if response.body else ""
        return response.code, json.loads(text) if text.startswith(("{", "[")) else {"text": text}

    async def answers(self) -> bool:
        """Return whether the hub answers through the proxy yet."""
        try:
            return (await self.call("GET", "/hub/api/", self.admin_token))[0] == 200
        except OSError:  # nothing listens on the port yet
            return False

    async def login(self, name: str, password: str) -> int:
        """Log in through the login form, as a browser does, and return the status code."""
        from tornado.httpclient import HTTPRequest

        page = await self.http.fetch(self.url + "/hub/login", raise_error=False)
        cookies = [h.split(";", 1)[0] for h in page.headers.get_list("Set-Cookie")]
        xsrf = next(c.split("=", 1)[1] for c in cookies if c.startswith("_xsrf="))
        request = HTTPRequest(
            self.url + "/hub/login",
            method="POST",
            headers={"Cookie": "; ".join(cookies), "Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode({"username": name, "password": password, "_xsrf": xsrf}),
            follow_redirects=False,
        )
        return (await self.http.fetch(request, raise_error=False)).code

    async def start_server(self, name: str) -> str:
        """Make the user, give them a token, start their server with it and wait until it is ready."""
        code, _ = await self.call("POST", f"/hub/api/users/{name}", self.admin_token)
        assert code in (201, 409), f"creating {name} answered {code}"
        code, answer = await self.call("POST", f"/hub/api/users/{name}/tokens", self.admin_token, {"note": "test"})
        assert code == 201, f"a token for {name}: {code} {answer}"
        token = answer["token"]
        code, answer = await self.call("POST", f"/hub/api/users/{name}/server", token)
        assert code in (201, 202), f"starting {name}'s server: {code} {answer}"
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            _, user = await self.call("GET", f"/hub/api/users/{name}", token)
            if user.get("servers", {}).get("", {}).get("ready"):
                return token
            await asyncio.sleep(0.5)
        raise TimeoutError(f"{name}'s server was not ready after {STEP_TIMEOUT} s")

    async def kernel(self, name: str, token: str, path: str):
        """Open a notebook session like JupyterLab does and return a websocket to its kernel."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        body = {"path": path, "type": "notebook", "name": Path(path).name, "kernel": {"name": "python3"}}
        code, session = await self.call("POST", f"/user/{name}/api/sessions", token, body)
        assert code == 201, f"{name}'s notebook session: {code} {session}"
        url = self.url.replace("http", "ws", 1) + f"/user/{name}/api/kernels/{session['kernel']['id']}/channels"
        return await websocket_connect(
            HTTPRequest(url, headers={"Authorization": f"token {token}"}, request_timeout=STEP_TIMEOUT)
        )


def message(msg_type: str, content: dict, session: str) -> dict:
    """Return a Jupyter message for the shell channel."""
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "test",
        "session": session,
        "date": datetime.now(UTC).isoformat(),
        "version": "5.3",
    }
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}


async def request(ws, msg_type: str, content: dict, session: str) -> Cell:
    """Send one request to the kernel; gather its reply, errors and stdout until it is idle again."""
    sent = message(msg_type, content, session)
    await ws.write_message(json.dumps(sent))
    cell, replied, idle = Cell(status=""), False, False
    while not (replied and idle):
        raw = await asyncio.wait_for(ws.read_message(), STEP_TIMEOUT)
        if raw is None:
            raise ConnectionError("the kernel's websocket closed")
        if isinstance(raw, bytes):  # messages with binary buffers (widgets): nothing to check in them
            continue
        reply = json.loads(raw)
        if reply["parent_header"].get("msg_id") != sent["header"]["msg_id"]:
            continue
        kind, content = reply["header"]["msg_type"], reply["content"]
        if kind.endswith("_reply"):
            cell.status, replied = content.get("status", "ok"), True
        elif kind == "status":
            idle = content["execution_state"] == "idle"
        elif kind == "error":
            cell.errors.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "stream" and content["name"] == "stdout":
            cell.stdout += content["text"]
    return cell


async def learn(hub: Hub, name: str, code_cells: list[str]) -> Learner:
    """Log in, start a server, run the lesson from the learner's home, do the learner's own step, report."""
    learner = Learner(name)
    learner.login = {
        "wrong password": await hub.login(name, "not-the-password"),
        "shared": await hub.login(name, PASSWORD),
    }
    token = await hub.start_server(name)
    code, notebook = await hub.call("GET", f"/user/{name}/api/contents/{NOTEBOOK}", token)
    assert code == 200, f"{name}'s copy of the lesson: {code} {notebook}"
    sources = [cell["source"] for cell in notebook["content"]["cells"] if cell["cell_type"] == "code"]
    assert sources == code_cells, f"{name}'s copy of the lesson differs from notebooks/"
    ws = await hub.kernel(name, token, NOTEBOOK)
    session = uuid.uuid4().hex
    try:
        await request(ws, "kernel_info_request", {}, session)
        for source in [*sources, AFTERWARDS[name], REPORT]:
            content = {"code": source, "silent": False, "store_history": True, "allow_stdin": False}
            learner.cells.append(await request(ws, "execute_request", content | {"stop_on_error": True}, session))
    finally:
        ws.close()
    learner.report = json.loads(learner.cells[-1].stdout)
    return learner


async def run_class(url: str, admin_token: str, code_cells: list[str]) -> dict[str, Learner]:
    """Run every learner at once; return what each one saw."""
    hub = Hub(url, admin_token)
    deadline = time.monotonic() + STEP_TIMEOUT
    while not await hub.answers():
        if time.monotonic() > deadline:
            raise TimeoutError("the hub did not answer")
        await asyncio.sleep(0.3)
    learners = await asyncio.gather(*(learn(hub, name, code_cells) for name in USERS))
    return {learner.name: learner for learner in learners}


def lesson_code_cells() -> list[str]:
    """Return the sources of the lesson's code cells, as stored in notebooks/."""
    notebook = json.loads((REPO_ROOT / NOTEBOOK).read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Classroom:
    """Start the hub with three learners, let each run the lesson, stop everything; return what happened."""
    root = tmp_path_factory.mktemp("classroom")
    homes, state, trap = root / "homes", root / "state", root / "trap-workspace"
    state.mkdir()
    port, hub_port, proxy_port = free_ports(3)
    admin_token = secrets.token_hex(32)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        # The hub's own files go to its state folder, never the tester's home.
        "HOME": str(state),
        "CLASSROOM_HOMES": str(homes),
        "CLASSROOM_STATE": str(state),
        "CLASSROOM_URL": f"http://127.0.0.1:{port}",
        "CLASSROOM_HUB_PORT": str(hub_port),
        "CLASSROOM_PROXY_API_PORT": str(proxy_port),
        "CLASSROOM_PASSWORD": PASSWORD,
        "CLASSROOM_API_TOKEN": admin_token,
        # If a learner's server inherited the hub's workspace, its sandboxes would land here.
        "MIGRATION_KIT_WORKSPACE": str(trap),
    }
    before = repository_state()
    code_cells = lesson_code_cells()
    log = (root / "hub.log").open("wb")
    hub = subprocess.Popen(
        [str(JUPYTERHUB), "-f", str(CONFIG)],
        cwd=state,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        learners = asyncio.run(run_class(f"http://127.0.0.1:{port}", admin_token, code_cells))
    except Exception as error:
        tail = (root / "hub.log").read_text(errors="replace")[-6000:]
        raise AssertionError(f"{error!r}\n--- the end of the hub's log ---\n{tail}") from error
    finally:
        stop_hub(hub)
        log.close()
        leftovers = reap(str(root) + os.sep)  # every process of this class has a path under root in its environment
    return Classroom(root, homes, state, trap, learners, len(code_cells), leftovers, before, repository_state())


def applied(database: Path) -> set[tuple[str, str]]:
    """Return the (app_label, name) rows of django_migrations, read-only."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return set(connection.execute("SELECT app, name FROM django_migrations"))


def topic_views(database: Path) -> list[tuple[int, int]] | None:
    """Return (id, views) of every topic, or None when the table has no views column, read-only."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(boards_topic)")}
        if "views" not in columns:
            return None
        return list(connection.execute("SELECT id, views FROM boards_topic ORDER BY id"))


def test_the_shared_password_logs_a_learner_in_and_a_wrong_one_does_not(classroom: Classroom) -> None:
    for learner in classroom.learners.values():
        assert learner.login == {"wrong password": 403, "shared": 302}


def test_every_learner_runs_the_lesson_through_the_hub_without_an_error(classroom: Classroom) -> None:
    for name, learner in classroom.learners.items():
        assert len(learner.cells) == classroom.code_cells + 2, f"{name} did not run every cell"
        for number, cell in enumerate(learner.cells, start=1):
            assert cell.errors == [] and cell.status == "ok", f"{name}, cell {number}: {cell.status} {cell.errors}"


def test_each_learner_works_in_their_own_home(classroom: Classroom) -> None:
    lessons = sorted(p.name for p in (REPO_ROOT / "notebooks").iterdir() if p.is_file())
    for name, learner in classroom.learners.items():
        home = classroom.homes / name
        workspace = home / "migration-kit-workspace"
        assert learner.report["user"] == name
        assert learner.report["home"] == str(home)
        assert learner.report["cwd"] == str(home / "notebooks")
        assert learner.report["workspace"] == str(workspace)
        assert learner.report["sandbox"] == str(workspace / LESSON)
        assert learner.report["names"] == Sandbox.names(workspace=workspace) == [LESSON]
        assert sorted(p.name for p in (home / "notebooks").iterdir() if p.is_file()) == lessons


def test_the_databases_differ_only_where_the_learners_did_different_things(classroom: Classroom) -> None:
    databases = {name: classroom.homes / name / "migration-kit-workspace" / LESSON / "db.sqlite3" for name in USERS}
    assert len({db.stat().st_ino for db in databases.values()}) == 3, "two learners share a database file"
    views_migration = ("boards", "0003_topic_views")
    # Alice ran the lesson: the views field is applied and topic 1 was read three times.
    assert views_migration in applied(databases["alice"])
    assert topic_views(databases["alice"])[0] == (1, 3)
    # Bob rolled boards back to 0002 afterwards: the migration row and the column are gone, in his database only.
    assert views_migration not in applied(databases["bob"])
    assert topic_views(databases["bob"]) is None
    # Carol read topic 1 twice more: 5 views in her database, still 3 in Alice's.
    assert views_migration in applied(databases["carol"])
    assert topic_views(databases["carol"])[0] == (1, 5)
    assert applied(databases["alice"]) == applied(databases["carol"])


def test_nothing_is_written_outside_the_homes(classroom: Classroom) -> None:
    assert sorted(p.name for p in classroom.homes.iterdir()) == sorted(USERS)
    assert not classroom.trap.exists(), "a learner's server used the hub's MIGRATION_KIT_WORKSPACE"
    assert {p.name for p in classroom.state.iterdir()} <= HUB_FILES
    assert sorted(p.name for p in classroom.root.iterdir()) == ["homes", "hub.log", "state"]
    # The repository: git status, the template and the default workspace and hub folders are as before.
    assert classroom.after == classroom.before


def test_stopping_the_hub_leaves_no_process_running(classroom: Classroom) -> None:
    assert classroom.leftovers == [], "still running after the hub stopped"


def test_a_teacher_resets_everyones_sandboxes_and_keeps_their_notebooks(classroom: Classroom, tmp_path: Path) -> None:
    homes = tmp_path / "homes"
    shutil.copytree(classroom.homes, homes, symlinks=True)
    notebooks = {name: tree_digest(homes / name / "notebooks") for name in USERS}
    done = subprocess.run(
        ["make", "--no-print-directory", "classroom-reset", f"CLASSROOM_HOMES={homes}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for name in USERS:
        workspace = homes / name / "migration-kit-workspace"
        left = {path.relative_to(workspace).as_posix() for path in workspace.rglob("*")}
        assert left <= {".kit", ".kit/progress.json"}, "only the progress record survives a reset"
        assert tree_digest(homes / name / "notebooks") == notebooks[name]


def load_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str):
    """Read classroom/jupyterhub_config.py as JupyterHub does, with these CLASSROOM_* settings."""
    from traitlets.config.loader import PyFileConfigLoader

    for name in ("CLASSROOM_ACCOUNTS", "CLASSROOM_PASSWORD", "CLASSROOM_USERS", "CLASSROOM_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLASSROOM_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("CLASSROOM_HOMES", str(tmp_path / "homes"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


def test_unix_accounts_log_in_with_pam_and_keep_sandboxes_in_their_real_home(monkeypatch, tmp_path) -> None:
    import pwd
    from types import SimpleNamespace

    config = load_config(monkeypatch, tmp_path, CLASSROOM_ACCOUNTS="unix", CLASSROOM_USERS="ada, grace")
    assert config.JupyterHub.authenticator_class == "pam"
    assert config.JupyterHub.spawner_class == "localprocess"
    assert config.Authenticator.allowed_users == {"ada", "grace"}
    me = pwd.getpwuid(os.getuid())
    spawner = SimpleNamespace(user=SimpleNamespace(name=me.pw_name))
    workspace = config.Spawner.environment["MIGRATION_KIT_WORKSPACE"](spawner)
    assert workspace == str(Path(me.pw_dir) / "migration-kit-workspace")


def test_without_a_password_the_hub_makes_one_and_keeps_it_private(monkeypatch, tmp_path) -> None:
    first = load_config(monkeypatch, tmp_path).SharedPasswordAuthenticator.user_password
    again = load_config(monkeypatch, tmp_path).SharedPasswordAuthenticator.user_password
    saved = tmp_path / "state" / "password"
    assert len(first) >= 8 and first == again == saved.read_text(encoding="utf-8").strip()
    assert saved.stat().st_mode & 0o077 == 0, "the password file is readable by others"


def test_an_unknown_kind_of_accounts_gets_one_sentence_with_the_fix(monkeypatch, tmp_path) -> None:
    with pytest.raises(SystemExit, match="set it to shared .* or unix"):
        load_config(monkeypatch, tmp_path, CLASSROOM_ACCOUNTS="ldap")
