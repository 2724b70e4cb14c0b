"""JupyterHub for one classroom server: `make classroom` runs `jupyterhub -f classroom/jupyterhub_config.py`.

Two ways to give learners accounts, chosen by CLASSROOM_ACCOUNTS:

- "shared" (the default): one Unix account, the one that runs the hub, serves everyone.
  Learners log in with any user name and one shared password; each gets a home folder
  under CLASSROOM_HOMES. Sandboxes never touch, but nothing stops one learner's code
  from reading another's files: for a class that trusts each other, on a lab server.
- "unix": every learner has a real Unix account; the hub runs as root, logs them in with
  their own password (PAM) and starts their server as them, in their own home.

Every learner's server gets MIGRATION_KIT_WORKSPACE=<home>/migration-kit-workspace and
a copy of the lesson notebooks in <home>/notebooks (see classroom/singleuser.py).

Settings, all optional, from the environment (paths default to folders next to this file):
CLASSROOM_URL (http://:8000, every interface), CLASSROOM_HOMES, CLASSROOM_STATE,
CLASSROOM_PASSWORD (else one is made and kept in CLASSROOM_STATE/password),
CLASSROOM_USERS (user names allowed, comma-separated; else any name that fits the pattern),
CLASSROOM_HUB_PORT (8081) and CLASSROOM_PROXY_API_PORT (8001) on 127.0.0.1, and
CLASSROOM_API_TOKEN (an admin token for scripts and the tests).
"""

import importlib.util
import os
import pwd
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROXY = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
WORKSPACE_NAME = "migration-kit-workspace"
# Lower-case letters, digits, - and _: a user name is also a folder name, so no dots or slashes.
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"

c = get_config()  # noqa: F821 (JupyterHub defines get_config when it reads this file)

accounts = os.environ.get("CLASSROOM_ACCOUNTS", "shared")
if accounts not in {"shared", "unix"}:
    sys.exit(f"CLASSROOM_ACCOUNTS is {accounts!r}: set it to shared (one Unix account) or unix (one account each).")
if not PROXY.exists():
    sys.exit("configurable-http-proxy is not in node_modules/: run make classroom, which installs it with npm ci.")

homes = Path(os.environ.get("CLASSROOM_HOMES") or HERE / "homes").resolve()
state = Path(os.environ.get("CLASSROOM_STATE") or HERE / "state").resolve()
state.mkdir(parents=True, exist_ok=True)


def user_home(spawner) -> str:
    """Return the home folder of the learner a spawner starts a server for."""
    if accounts == "shared":
        return spawner.home_dir
    return pwd.getpwnam(spawner.user.name).pw_dir


def workspace(spawner) -> str:
    """Return the learner's own workspace: every sandbox, snapshot and cache of the kit."""
    return str(Path(user_home(spawner)) / WORKSPACE_NAME)


def shared_password() -> str:
    """Return the shared password from the environment, else the one kept in the state folder."""
    if os.environ.get("CLASSROOM_PASSWORD"):
        return os.environ["CLASSROOM_PASSWORD"]
    saved = state / "password"
    if not saved.exists():
        saved.touch(mode=0o600)
        saved.write_text(secrets.token_urlsafe(9) + "\n", encoding="utf-8")
    password = saved.read_text(encoding="utf-8").strip()
    print(f"Learners log in with any user name and the password {password} (kept in {saved}).", file=sys.stderr)
    return password


# The hub, its proxy and their files.
c.JupyterHub.bind_url = os.environ.get("CLASSROOM_URL", "http://:8000")
# JupyterHub logs its bind URL as "running at http://:8000": say the address a learner can type.
_address = importlib.util.spec_from_file_location("classroom_address", HERE / "address.py")
learner_url = importlib.util.module_from_spec(_address)
_address.loader.exec_module(learner_url)
print(f"Learners open {learner_url.learner_url(c.JupyterHub.bind_url)}", file=sys.stderr)
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("CLASSROOM_HUB_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('CLASSROOM_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
# Stopping the hub (Ctrl-C) stops every learner's server too.
c.JupyterHub.cleanup_servers = True

# Who may log in.
c.Authenticator.username_pattern = USERNAME_PATTERN
if os.environ.get("CLASSROOM_USERS"):
    c.Authenticator.allowed_users = {name.strip() for name in os.environ["CLASSROOM_USERS"].split(",") if name.strip()}
else:
    c.Authenticator.allow_all = True
if accounts == "shared":
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = shared_password()
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
else:
    c.JupyterHub.authenticator_class = "pam"
    c.JupyterHub.spawner_class = "localprocess"

# Each learner's server: the kit's Python, their own workspace, the lessons copied into their home.
c.Spawner.cmd = [sys.executable, str(HERE / "singleuser.py")]
c.Spawner.environment = {
    "MIGRATION_KIT_WORKSPACE": workspace,
    # The kit's environment first, so `python` and `jupyter` in a learner's terminal are the kit's.
    "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")]),
}
# CLASSROOM_COURSES and CLASSROOM_KIT_LESSONS choose the lessons each home gets (classroom/singleuser.py).
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ", "CLASSROOM_COURSES", "CLASSROOM_KIT_LESSONS"]
# The lessons' folder, no notebook: a lesson opened on arrival starts a kernel that stays beside the next one.
c.Spawner.default_url = "/lab/tree/notebooks"
if accounts == "shared" and os.geteuid() == 0:
    # Containers and lab servers often run as root; Jupyter refuses to unless told.
    c.Spawner.args = ["--ServerApp.allow_root=True"]
# A class logs in at once on a busy machine: give servers time to start.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90

# An admin token for scripts (and the tests): a service with the admin role.
if os.environ.get("CLASSROOM_API_TOKEN"):
    c.JupyterHub.services = [{"name": "classroom-admin", "api_token": os.environ["CLASSROOM_API_TOKEN"]}]
    c.JupyterHub.load_roles = [{"name": "admin", "services": ["classroom-admin"]}]
