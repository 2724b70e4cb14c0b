"""The manage.py commands a learner runs, as argument lists; and pages read through Django's test client.

The facade's ``makemigrations``, ``migrate``, ``startapp`` and ``get`` build
their arguments here and run them with ``Sandbox.manage`` (guarded, through
the runner), so what the kit runs is what a terminal would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from widgets.errors import KitError
from widgets.run.result import CommandResult

__all__ = ["PageResult", "get", "makemigrations", "migrate", "startapp", "stdin"]


@dataclass(frozen=True)
class PageResult:
    """A page requested through Django's test client inside the sandbox."""

    url: str
    status: int
    html: str
    result: CommandResult

    @property
    def ok(self) -> bool:
        """Return True for a 2xx answer."""
        return 200 <= self.status < 300


def makemigrations(
    app_labels: tuple[str, ...], *, name: str | None, dry_run: bool, merge: bool, empty: bool
) -> list[str]:
    """Return the arguments of a makemigrations command."""
    args = ["makemigrations", *app_labels]
    args += ["--name", name] if name else []
    args += ["--dry-run"] if dry_run else []
    args += ["--merge"] if merge else []
    args += ["--empty"] if empty else []
    return args


def migrate(app_label: str | None, target: str | None, *, fake: bool, plan: bool) -> list[str]:
    """Return the arguments of a migrate command; refuse a target without an app label."""
    if target is not None and app_label is None:
        raise KitError("A target needs an app label. Fix: call sandbox.migrate('boards', '0002').")
    args = ["migrate", *([app_label] if app_label else []), *([target] if target else [])]
    args += ["--fake"] if fake else []
    args += ["--plan"] if plan else []
    return args


def startapp(label: str) -> list[str]:
    """Return the arguments of a startapp command; refuse a label that is not a Python identifier."""
    if not label.isidentifier():
        raise KitError(f"'{label}' is not a valid app name. Fix: use a Python identifier such as 'app'.")
    return ["startapp", label]


def stdin(answers: list[str] | None) -> str | None:
    """Return the answers to Django's questions as the lines of a command's input, or None for no input."""
    return None if answers is None else "".join(f"{line}\n" for line in answers)


def get(shell: Callable[[str], CommandResult], url: str) -> PageResult:
    """Request a page with Django's test client through ``manage.py shell`` and return status and HTML."""
    code = (
        "import json\nfrom django.test import Client\n"
        f"response = Client().get({url!r})\n"
        "print('@@page@@' + json.dumps({'status': response.status_code, 'html': response.content.decode()}))"
    )
    result = shell(code)
    line = next((line for line in result.stdout.splitlines() if line.startswith("@@page@@")), None)
    if line is None:
        raise KitError(f"The page {url} could not be rendered. {result.message}")
    page = json.loads(line[len("@@page@@") :])
    return PageResult(url, page["status"], page["html"], result)
