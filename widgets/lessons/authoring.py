"""Helpers for writing lessons: a data migration from two functions, a file shown highlighted, a file removed.

Each works on a sandbox through its confined file methods, so a path can
never leave it, and returns something that displays well as a cell's last
line (no absolute paths, which would differ from machine to machine).
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass

from widgets.errors import KitError

__all__ = ["ShownFile", "remove", "show_file", "write_data_migration"]

_DATA_MIGRATION = """from django.db import migrations

{functions}

class Migration(migrations.Migration):
    dependencies = [{dependency}]

    operations = [
        migrations.RunPython({forwards}{backwards}{elidable}),
    ]
"""


@dataclass(frozen=True)
class ShownFile:
    """A sandbox file's text, shown with line numbers and highlighting; optional lines marked."""

    relative: str
    text: str
    marked: tuple[int, ...] = ()

    def __str__(self) -> str:
        width = len(str(self.text.count("\n") + 1))
        lines = [
            f"{'>' if n in self.marked else ' '}{n:>{width}} | {line}"
            for n, line in enumerate(self.text.splitlines(), 1)
        ]
        return f"# {self.relative}\n" + "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import get_lexer_for_filename
            from pygments.util import ClassNotFound
        except ImportError:  # pygments comes with IPython; without it, plain text still reads well
            return f"<pre>{html.escape(str(self))}</pre>"
        try:
            lexer = get_lexer_for_filename(self.relative)
        except ClassNotFound:
            return f"<pre>{html.escape(str(self))}</pre>"
        formatter = HtmlFormatter(linenos="inline", hl_lines=list(self.marked), noclasses=True, style="friendly")
        return f"<p><code>{html.escape(self.relative)}</code></p>" + highlight(self.text, lexer, formatter)


def show_file(sandbox, relative: str, *, mark: str | None = None) -> ShownFile:
    """Show a file of the sandbox, highlighted; ``mark`` (a regular expression) marks the lines it matches."""
    text = sandbox.read(relative)
    marked = ()
    if mark is not None:
        pattern = re.compile(mark)
        marked = tuple(n for n, line in enumerate(text.splitlines(), 1) if pattern.search(line))
    return ShownFile(str(relative), text, marked)


def write_data_migration(
    sandbox,
    app_label: str,
    name: str,
    forwards: str,
    backwards: str | None = None,
    *,
    noop_backwards: bool = False,
    elidable: bool = False,
) -> ShownFile:
    """Write a migration that runs ``forwards`` (and ``backwards``), functions given as source code.

    It depends on the app's latest migration (its one leaf node) and is
    numbered after it, as ``makemigrations --empty`` would; the learner's
    functions go in as written. ``noop_backwards`` uses ``RunPython.noop`` as
    the reverse. Returns the new file, shown with its operation marked.
    """
    graph = sandbox.migration_graph()
    leaves = graph.leaf_nodes.get(app_label)
    if not leaves:
        raise KitError(f"App '{app_label}' has no migrations yet. Fix: run makemigrations for it first.")
    if len(leaves) > 1:
        raise KitError(
            f"App '{app_label}' has {len(leaves)} leaf nodes ({', '.join(leaves)}). "
            "Fix: merge them first with makemigrations --merge."
        )
    if not name.isidentifier():
        raise KitError(f"'{name}' cannot name a migration. Fix: use letters, digits and '_', such as 'fill_views'.")
    functions = [textwrap.dedent(forwards).strip()] + ([textwrap.dedent(backwards).strip()] if backwards else [])
    names = [_function_name(code) for code in functions]
    if backwards and noop_backwards:
        raise KitError("Give backwards or noop_backwards=True, not both. Fix: drop one of them.")
    reverse = f", {names[1]}" if backwards else (", migrations.RunPython.noop" if noop_backwards else "")
    number = _number(leaves[0]) + 1
    relative = f"{app_label}/migrations/{number:04d}_{name}.py"
    text = _DATA_MIGRATION.format(
        functions="\n\n".join(functions) + "\n",
        dependency=f"({app_label!r}, {leaves[0]!r})".replace("'", '"'),
        forwards=names[0],
        backwards=reverse,
        elidable=", elidable=True" if elidable else "",
    )
    sandbox.write(relative, text)
    return show_file(sandbox, relative, mark=r"RunPython\(")


def _number(name: str) -> int:
    """Return a migration's number as makemigrations reads it: a squash counts as the last one it replaces."""
    match = re.match(r"^\d+_squashed_(\d+)", name) or re.match(r"^(\d+)", name)
    return int(match.group(1)) if match else 0


def _function_name(code: str) -> str:
    match = re.match(r"def (\w+)\(", code)
    if match is None:
        raise KitError(
            "A data migration's function must be a whole def, such as 'def forwards(apps, schema_editor): ...'. "
            "Fix: pass the function's source code as a string."
        )
    return match.group(1)


def remove(sandbox, relative: str) -> str:
    """Delete one file of the sandbox (a migration, say); say what was removed."""
    path = sandbox.file(relative)
    if not path.is_file():
        raise KitError(f"There is no file '{relative}' in the sandbox. Fix: check the path with sandbox.read.")
    with sandbox.locked("remove()"):
        path.unlink()
    return f"removed {relative}"
