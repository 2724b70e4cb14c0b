"""Harness for the browser tests: a Jupyter server on loopback and Debian's Chromium.

Everything the servers write (config, data, runtime, settings, the copied
notebook, the sandboxes) goes into one temporary folder, never the user's home
or the repository. Playwright drives the system Chromium through
``executable_path``: no browser is ever downloaded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "ARTIFACTS",
    "CHROMIUM_ARGS",
    "JupyterServer",
    "browser_skip_reason",
    "chromium_executable",
    "free_port",
    "launch_chromium",
    "start_server",
]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ENV = "MIGRATION_KIT_CHROMIUM"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Containers often run as root, where Chromium's sandbox cannot start.
    "--no-sandbox",
    # The network may be closed: no background calls that would only be refused.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# Lab settings for a quiet, predictable page: no news prompt, no autosave into
# the copied notebook, every cell rendered (no virtual scrolling), light theme.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Light"},
}


def chromium_executable() -> Path | None:
    """Return the system Chromium to drive, or None if there is none."""
    configured = os.environ.get(CHROMIUM_ENV)
    candidates = [configured] if configured else [shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def browser_skip_reason() -> str | None:
    """Return why the browser tests cannot run here, or None if they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed. Fix: pip install -e '.[test]' (or make setup)."
    if chromium_executable() is None:
        return (
            "No Chromium found. Fix: run 'make chromium' as root on Debian/Ubuntu "
            f"(apt-get install chromium), or set {CHROMIUM_ENV} to a Chromium binary."
        )
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_chromium(playwright):
    """Launch the system Chromium headless through Playwright."""
    return playwright.chromium.launch(
        executable_path=str(chromium_executable()), headless=True, args=CHROMIUM_ARGS, timeout=30_000
    )


@dataclass
class JupyterServer:
    """A JupyterLab or Voila server running on loopback with a random token."""

    kind: Literal["lab", "voila"]
    port: int
    token: str
    notebook: str
    process: subprocess.Popen
    log: Path
    home: Path
    workspace: Path
    env: dict = field(repr=False, default_factory=dict)

    @property
    def base(self) -> str:
        """Return the server's root URL."""
        return f"http://127.0.0.1:{self.port}"

    def url(self) -> str:
        """Return the URL of the notebook page, token included."""
        path = f"lab/tree/{self.notebook}" if self.kind == "lab" else f"voila/render/{self.notebook}"
        return f"{self.base}/{path}?token={self.token}"

    def api(self, path: str):
        """Return the JSON answer of a Jupyter REST endpoint such as 'kernels'."""
        request = urllib.request.Request(f"{self.base}/api/{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def wait_for_kernel(self, timeout: float = START_TIMEOUT) -> str:
        """Wait until exactly one kernel runs, idle with a browser connected, and stays so; return its id."""
        # JupyterLab may start a kernel and replace it while a notebook opens: wait for the survivor.
        deadline, seen = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                kernels = self.api("kernels")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                kernels = []  # a busy server may answer slowly: ask again
            ready = [k["id"] for k in kernels if k["execution_state"] == "idle" and k.get("connections", 0) > 0]
            if len(kernels) == 1 and ready:
                if seen == ready[0]:
                    return seen
                seen = ready[0]
            else:
                seen = None
            time.sleep(0.5)
        raise RuntimeError(f"No single idle kernel in {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines of the server's log, for failure messages."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server and every kernel it started."""
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT)
        # Kernels live in the server's process group; make sure none outlives it.
        _signal_group(self.process, signal.SIGKILL)


def start_server(
    kind: Literal["lab", "voila"],
    notebook: Path,
    home: Path,
    *,
    theme: str = "JupyterLab Light",
    neighbours: tuple[Path, ...] = (),
) -> JupyterServer:
    """Copy a notebook (and its ``neighbours``) into ``home``, serve the folder with JupyterLab (in ``theme``) or Voila.

    Both serve the whole folder, as ``make lab`` and ``make voila`` do, so that a
    lesson's link to the next one opens it. Wait until the server answers.
    """
    root = home / "notebooks"
    root.mkdir(parents=True, exist_ok=True)
    for path in (notebook, *neighbours):
        shutil.copy2(path, root / path.name)
    workspace = home / "workspace"
    env = _server_env(home, workspace, theme)
    port, token = free_port(), secrets.token_hex(16)
    command = _lab_command(root, port, token) if kind == "lab" else _voila_command(root, port, token)
    log = home / f"{kind}.log"
    with log.open("wb") as out:
        # A session of its own, so that stopping the server also stops its kernels.
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = JupyterServer(kind, port, token, notebook.name, process, log, home, workspace, env)
    try:
        _wait_until_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def _server_env(home: Path, workspace: Path, theme: str = "JupyterLab Light") -> dict[str, str]:
    """Return an environment that keeps every Jupyter file and sandbox under ``home``, JupyterLab in ``theme``."""
    dirs = {name: home / name for name in ("config", "data", "runtime", "settings", "lab-workspaces", "ipython")}
    for folder in dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    themed = {"@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": theme}}
    for relative, settings in {**LAB_SETTINGS, **themed}.items():
        target = dirs["settings"] / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "PYTEST"))}
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["lab-workspaces"]),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTER_PLATFORM_DIRS="1",
        MIGRATION_KIT_WORKSPACE=str(workspace),
        PYTHONUNBUFFERED="1",
    )
    return env


def _lab_command(root: Path, port: int, token: str) -> list[str]:
    return [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # Containers often run as root; the server is still bound to loopback with a token.
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]  # fmt: skip


def _voila_command(root: Path, port: int, token: str) -> list[str]:
    # The folder, not one notebook: Voila then renders every notebook in it under /voila/render/ (a single
    # notebook's page refuses the link to the next lesson with 403).
    return [
        sys.executable, "-m", "voila", str(root), "--no-browser",
        "--Voila.ip=127.0.0.1", f"--Voila.port={port}", "--Voila.port_retries=0",
        f"--Voila.token={token}", "--show_tracebacks=True",
    ]  # fmt: skip


def _wait_until_ready(server: JupyterServer) -> None:
    """Poll the server until it answers; raise with its log if it dies or takes too long."""
    # Voila runs the whole notebook on a page request, so only its static files are polled.
    probe = "/api/status" if server.kind == "lab" else "/voila/static/voila.js"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"The {server.kind} server exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        if _answers(f"{server.base}{probe}?token={server.token}"):
            return
        time.sleep(0.25)
    raise RuntimeError(f"The {server.kind} server did not answer in {START_TIMEOUT:.0f} s:\n{server.log_tail()}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    """Send a signal to the process group this harness started for the server."""
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
