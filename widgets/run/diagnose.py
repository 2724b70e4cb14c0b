"""Turn a failed command into one plain sentence and the fix.

Diagnoses read Django's error text: that text is the message Django gives a
person, so it is the right input here (state itself is never read from it).
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from widgets.run.bounded import size_text
from widgets.sandbox.database_file import DAMAGED, LOCKED_CAUSE, LOCKED_FIX
from widgets.sandbox.disk import FULL_FIX

__all__ = ["Diagnosis", "diagnose", "last_line"]


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong, in one sentence, and what to do about it."""

    cause: str
    fix: str
    code: str

    def __str__(self) -> str:
        return f"{self.cause} Fix: {self.fix}"


@dataclass(frozen=True)
class _Failure:
    args: tuple[str, ...]
    stdout: str
    stderr: str
    exit_code: int
    project: Path

    @property
    def text(self) -> str:
        return f"{self.stdout}\n{self.stderr}"


_Rule = Callable[[_Failure], Diagnosis | None]
_RULES: list[_Rule] = []


def _rule(func: _Rule) -> _Rule:
    _RULES.append(func)
    return func


def diagnose(args: tuple[str, ...], stdout: str, stderr: str, exit_code: int, project: Path) -> Diagnosis | None:
    """Return the diagnosis of a command's outcome, or None when nothing is wrong or known."""
    failure = _Failure(tuple(args), stdout, stderr, exit_code, Path(project))
    for rule in _RULES:
        found = rule(failure)
        if found:
            return found
    return None


def _where(failure: _Failure) -> tuple[str, str]:
    """Return the sandbox-relative file and line of the innermost frame inside the project."""
    frames = re.findall(r'File "([^"]+)", line (\d+)', failure.stderr)
    for filename, line in reversed(frames):
        path = Path(filename)
        if _inside(path, failure.project) and path.name != "manage.py":
            return _relative(path, failure.project), line
    return "", ""


def _inside(path: Path, folder: Path) -> bool:
    """Return True for a sandbox-relative path or an absolute one inside the folder."""
    if not path.is_absolute():
        return True
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _relative(path: Path, folder: Path) -> str:
    return path.resolve().relative_to(folder.resolve()).as_posix() if path.is_absolute() else path.as_posix()


def last_line(text: str) -> str:
    """Return the last non-blank line of a command's output: where Python puts the error."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


@_rule
def _syntax_error(f: _Failure) -> Diagnosis | None:
    match = re.search(r"^(SyntaxError|IndentationError|TabError): (.+)$", f.stderr, re.MULTILINE)
    if not match:
        return None
    where = re.findall(r'File "([^"]+)", line (\d+)\n', f.stderr)
    filename, line = where[-1] if where else ("", "")
    name = _relative(Path(filename), f.project) if filename and _inside(Path(filename), f.project) else filename
    return Diagnosis(
        f"Python cannot read {name or 'a file'} (line {line}: {match.group(2)}).",
        f"correct line {line} of {name} (look for an unclosed bracket, a missing colon or a stray indent), "
        "save, and run the command again.",
        "syntax_error",
    )


@_rule
def _missing_on_delete(f: _Failure) -> Diagnosis | None:
    match = re.search(
        r"(ForeignKey|OneToOneField)\.__init__\(\) missing 1 required positional argument: 'on_delete'", f.stderr
    )
    if not match:
        return None
    name, line = _where(f)
    return Diagnosis(
        f"A {match.group(1)} in {name or 'models.py'} (line {line}) has no on_delete: Django 2.0 and later require it.",
        "add on_delete=models.CASCADE (delete the rows that point here too), models.PROTECT (refuse) or "
        "models.SET_NULL with null=True, then run makemigrations again.",
        "missing_on_delete",
    )


@_rule
def _app_not_installed(f: _Failure) -> Diagnosis | None:
    match = re.search(
        r"App '(\w+)' could not be found\. Is it in INSTALLED_APPS\?|No installed app with label '(\w+)'", f.stderr
    )
    if not match:
        return None
    label = match.group(1) or match.group(2)
    exists = (f.project / label / "apps.py").is_file()
    if exists:
        return Diagnosis(
            f"The app '{label}' exists as a folder but is not in INSTALLED_APPS, so Django ignores it.",
            f"add \"{label}\" to INSTALLED_APPS in settings.py (sandbox.add_installed_app('{label}')), then run the command again.",
            "app_not_installed",
        )
    return Diagnosis(
        f"There is no installed app called '{label}'.",
        "check the spelling of the app label (the folder name, e.g. 'boards'); showmigrations lists the installed apps.",
        "unknown_app",
    )


@_rule
def _no_changes_uninstalled_app(f: _Failure) -> Diagnosis | None:
    # Only the bare "No changes detected" of a run over every app: naming installed apps
    # ("No changes detected in app 'boards'") says nothing about a forgotten one.
    if f.args[:1] != ("makemigrations",) or not re.search(r"^No changes detected$", f.stdout, re.MULTILINE):
        return None
    missing = [label for label in _app_folders(f.project) if not _mentioned_in_settings(f.project, label)]
    if not missing:
        return None
    label = missing[0]
    return Diagnosis(
        f"No changes detected because the app '{label}' is not in INSTALLED_APPS: Django never looks at its models.py.",
        f"add \"{label}\" to INSTALLED_APPS in settings.py (sandbox.add_installed_app('{label}')) and run makemigrations again.",
        "app_not_installed",
    )


def _app_folders(project: Path) -> list[str]:
    """Return the folders that look like apps with models: an apps.py and a models.py."""
    return sorted(p.parent.name for p in project.glob("*/apps.py") if (p.parent / "models.py").is_file())


def _mentioned_in_settings(project: Path, label: str) -> bool:
    """Return True when some settings module (a settings package's modules included) names the app in quotes."""
    pattern = re.compile(rf"""["']{re.escape(label)}(\.apps\.\w+)?["']""")
    files = [*project.glob("*/settings*.py"), *project.glob("*/settings/*.py")]
    return any(pattern.search(p.read_text(encoding="utf-8", errors="replace")) for p in files)


@_rule
def _not_null_without_input(f: _Failure) -> Diagnosis | None:
    pattern = r"Field '(\w+)' on model '(\w+)' not migrated: it is impossible to add a non-nullable field"
    match = re.search(pattern, f.stdout)
    if not match:
        return None
    field, model = match.groups()
    return Diagnosis(
        f"makemigrations skipped the field '{field}' on '{model}': it cannot be NOT NULL without a value for the "
        "rows already there, and --noinput means nobody was asked for one.",
        "give the field a default in models.py (for example default=0) or null=True, or run makemigrations "
        "without --noinput and answer its question.",
        "not_null_noinput",
    )


@_rule
def _unknown_target(f: _Failure) -> Diagnosis | None:
    match = re.search(r"Cannot find a migration matching '([^']*)' from app '(\w+)'", f.stderr)
    if match:
        name, app = match.groups()
        return Diagnosis(
            f"App '{app}' has no migration called '{name}'.",
            f"pick a name from showmigrations {app} (a unique prefix such as 0001 works), or 'zero' to unapply them all.",
            "unknown_target",
        )
    match = re.search(r"More than one migration matches '([^']*)' in app '(\w+)'", f.stderr)
    if match:
        name, app = match.groups()
        return Diagnosis(
            f"More than one migration of '{app}' starts with '{name}'.",
            f"type more of the name so that it matches one migration (showmigrations {app} lists them).",
            "ambiguous_target",
        )
    return None


@_rule
def _unknown_command(f: _Failure) -> Diagnosis | None:
    match = re.search(r"^Unknown command: '([^']*)'(?:\. Did you mean (\w+)\?)?", f.stderr, re.MULTILINE)
    if not match:
        return None
    name, close = match.groups()
    hint = f"did you mean {close}? " if close else ""
    return Diagnosis(
        f"manage.py has no command called '{name}'.",
        f"{hint}check the spelling; python manage.py help lists every command.",
        "unknown_command",
    )


@_rule
def _no_migrations(f: _Failure) -> Diagnosis | None:
    match = re.search(r"App '(\w+)' does not have migrations", f.stderr)
    if not match:
        return None
    app = match.group(1)
    return Diagnosis(
        f"The app '{app}' has no migrations yet.",
        f"run makemigrations {app} first to write its 0001_initial migration.",
        "no_migrations",
    )


@_rule
def _conflicts(f: _Failure) -> Diagnosis | None:
    match = re.search(r"Conflicting migrations detected; multiple leaf nodes in the migration graph: \((.+)\)", f.text)
    if not match:
        return None
    return Diagnosis(
        f"Two migrations both claim to be the latest ({match.group(1)}): they were made on separate branches.",
        "run makemigrations --merge to write a merge migration that depends on both, then migrate.",
        "conflicting_leaves",
    )


@_rule
def _irreversible(f: _Failure) -> Diagnosis | None:
    match = re.search(r"IrreversibleError: Operation (.+) in (\w+)\.(\w+) is not reversible", f.stderr)
    if not match:
        return None
    operation, app, name = match.groups()
    return Diagnosis(
        f"Migration {app}.{name} cannot be unapplied: its operation {operation} has no way back. "
        "Nothing was unapplied past it.",
        "give the operation a reverse (RunPython(forwards, reverse_code=...) or "
        "RunPython.noop, RunSQL(sql, reverse_sql=...)), or stop the rollback at that migration.",
        "irreversible",
    )


@_rule
def _lock_timeout(f: _Failure) -> Diagnosis | None:
    if "canceling statement due to lock timeout" not in f.stderr:
        return None
    return Diagnosis(
        "PostgreSQL gave up waiting for a lock (lock_timeout): another session holds the table, so this "
        "migration's transaction was rolled back and nothing of it was applied.",
        "run migrate again once that session's transaction has ended (pg_locks.migrate_with_lock_timeout retries "
        "for you); in production, keep the timeout short and retry, so the site never queues behind the migration.",
        "lock_timeout",
    )


@_rule
def _cannot_open_database(f: _Failure) -> Diagnosis | None:
    if "unable to open database file" not in f.stderr:
        return None
    return Diagnosis(
        "Django cannot open the SQLite database file: the folder in DATABASES['default']['NAME'] is missing or not writable.",
        "recreate that folder (or correct NAME in settings.py), then check the connection with python manage.py dbshell "
        "and run migrate.",
        "cannot_open_database",
    )


@_rule
def _inconsistent_history(f: _Failure) -> Diagnosis | None:
    match = re.search(
        r"InconsistentMigrationHistory: Migration (\S+) is applied before its dependency (\S+) on database", f.stderr
    )
    if not match:
        return None
    applied, dependency = match.groups()
    # migrate checks the history before doing anything, --fake included, so the repair is by hand.
    record = "MigrationRecorder(connection).record_applied({!r}, {!r})".format(*dependency.split(".", 1))
    forget = "record_unapplied({!r}, {!r})".format(*applied.split(".", 1))
    return Diagnosis(
        f"The django_migrations table says {applied} is applied but its dependency {dependency} is not: "
        "the history is out of order, and migrate refuses to run, even with --fake.",
        f"if the tables of {dependency} exist, record it in manage.py shell with {record} "
        f"(from django.db import connection; from django.db.migrations.recorder import MigrationRecorder), "
        f"otherwise remove {applied} the same way with {forget}; then run migrate.",
        "inconsistent_history",
    )


@_rule
def _half_applied_squash(f: _Failure) -> Diagnosis | None:
    match = re.search(
        r"Migration (\S+) depends on nonexistent node \('(\w+)', '(\w+)'\)\. Django tried to replace migration "
        r"(\S+) with any of \[(.+?)\] but wasn't able to because some of the replaced migrations are already applied",
        f.stderr,
    )
    if not match:
        return None
    dependant, _app, _name, replaced, squashes = match.groups()
    return Diagnosis(
        f"Migration {dependant} depends on {replaced}, whose file is gone: it was squashed into {squashes}, "
        "but this database has applied only part of that squash, so Django cannot use the squash and needs "
        "the old files.",
        f"put the replaced migration files back (from version control) until every database has migrated past "
        f"{squashes}; delete them only after that.",
        "half_applied_squash",
    )


@_rule
def _circular_dependency(f: _Failure) -> Diagnosis | None:
    match = re.search(r"CircularDependencyError: (.+)", f.stderr)
    if not match:
        return None
    cycle = ", ".join(sorted(name.strip() for name in match.group(1).split(",")))  # Django's order varies
    return Diagnosis(
        f"These migrations depend on each other in a circle, so none of them can run first: {cycle}.",
        "open them and remove one dependency of the circle (often one that a squash or a hand edit added), "
        "or move the operation that needs it into a later migration.",
        "circular_dependency",
    )


@_rule
def _missing_parent(f: _Failure) -> Diagnosis | None:
    match = re.search(r"Migration (\S+) dependencies reference nonexistent parent node (\(.+?\))", f.stderr)
    if not match:
        return None
    return Diagnosis(
        f"Migration {match.group(1)} depends on {match.group(2)}, which does not exist.",
        "restore the missing migration file, or correct the dependencies list of the migration that names it.",
        "missing_dependency",
    )


@_rule
def _database_locked(f: _Failure) -> Diagnosis | None:
    if "database is locked" not in f.stderr:
        return None
    return Diagnosis(
        f"{LOCKED_CAUSE}, so Django waited, then gave up; nothing was changed.", LOCKED_FIX, "database_locked"
    )


@_rule
def _database_damaged(f: _Failure) -> Diagnosis | None:
    match = re.search(r"(file is not a database|database disk image is malformed)", f.stderr)
    if not match:
        return None
    return Diagnosis(f"The database file is damaged (SQLite says: {match.group(1)}).", DAMAGED, "database_damaged")


@_rule
def _disk_full(f: _Failure) -> Diagnosis | None:
    if not re.search(r"database or disk is full|\[Errno (28|122)\]", f.stderr):
        return None
    return Diagnosis(
        "The disk is full, so the command stopped part-way: SQLite undoes the database change it was making "
        "(at the latest when a command next opens the database), but a file it was writing may be cut short.",
        FULL_FIX,
        "disk_full",
    )


@_rule
def _read_only_database(f: _Failure) -> Diagnosis | None:
    if not re.search(r"attempt to write a readonly database|\[Errno 30\] Read-only file system", f.stderr):
        return None
    return Diagnosis(
        "The database file or its folder may not be written to, so Django could not change anything.",
        "make them writable again (chmod u+w), or move the workspace to a writable disk by setting "
        "MIGRATION_KIT_WORKSPACE before starting Jupyter.",
        "read_only",
    )


@_rule
def _memory_limit(f: _Failure) -> Diagnosis | None:
    from widgets.run import _guard  # the process runner's limits: imported only when one is met

    if not re.search(r"^MemoryError\b", f.stderr, re.MULTILINE):
        return None
    limit = _guard.limits()["memory"]
    allowed = f"at most {size_text(limit)} (the kit's memory limit)" if limit else "all the memory there is"
    return Diagnosis(
        f"The command ran out of memory: the kit lets each command use {allowed}.",
        "work on less data at once (smaller batches, QuerySet.iterator()); if the project really needs more, "
        f"set {_guard.LIMIT_ENV['memory']}=8G before starting Jupyter.",
        "memory_limit",
    )


@_rule
def _file_size_limit(f: _Failure) -> Diagnosis | None:
    from widgets.run import _guard  # the process runner's limits: imported only when one is met

    if "[Errno 27] File too large" not in f.stderr and f.exit_code != -signal.SIGXFSZ:
        return None
    limit = _guard.limits()["file size"]
    allowed = size_text(limit) if limit else "the system's limit"
    return Diagnosis(
        f"The command tried to write a file larger than {allowed} (the kit's file-size limit) and was stopped.",
        "write less, or into several files; if the project really needs bigger files, "
        f"set {_guard.LIMIT_ENV['file size']}=4G before starting Jupyter.",
        "file_size_limit",
    )


@_rule
def _process_limit(f: _Failure) -> Diagnosis | None:
    from widgets.run import _guard  # the process runner's limits: imported only when one is met

    # EAGAIN at the end of a command's traceback: fork() (os.fork, subprocess) met RLIMIT_NPROC.
    if not last_line(f.stderr).startswith("BlockingIOError: [Errno 11]"):
        return None
    limit = _guard.limits()["processes"]
    return Diagnosis(
        f"The command could not start another process: the kit allows {limit or 'only so many'} processes "
        "at a time (the process limit).",
        "look for code that starts processes in a loop; if the project really needs more, "
        f"set {_guard.LIMIT_ENV['processes']} higher before starting Jupyter.",
        "process_limit",
    )


@_rule
def _schema_behind_models(f: _Failure) -> Diagnosis | None:
    match = re.search(r"OperationalError: (no such (?:column|table): \S+)", f.stderr)
    if not match:
        return None
    return Diagnosis(
        f"The database is behind the models ({match.group(1)}): a model changed but its migration is not applied.",
        "run makemigrations, then migrate, and try again.",
        "schema_behind_models",
    )


def _migration_step(f: _Failure) -> tuple[str, str]:
    """Return ("Applying" or "Unapplying", "app.name") of the step migrate was running when it failed."""
    steps = re.findall(r"^\s*(Applying|Unapplying) (\w+\.\w+)\.\.\.(?! OK)", f.stdout, re.MULTILINE)
    return steps[-1] if steps else ("", "")


def _integrity_where(message: str) -> tuple[str, str]:
    """Return (kind, where) of an IntegrityError: NOT NULL, UNIQUE or FOREIGN KEY, and the table.column named."""
    patterns = [
        ("NOT NULL", r"NOT NULL constraint failed: (\S+)"),
        ("NOT NULL", r'null value in column "(\w+)" of relation "(\w+)"'),
        ("UNIQUE", r"UNIQUE constraint failed: (\S+)"),
        ("UNIQUE", r"duplicate key value violates unique constraint \"(\w+)\""),
        ("FOREIGN KEY", r"invalid foreign key: (\S+) contains a value"),
        ("FOREIGN KEY", r"violates foreign key constraint \"(\w+)\""),
        ("FOREIGN KEY", r"FOREIGN KEY constraint failed()"),
    ]
    for kind, pattern in patterns:
        match = re.search(pattern, message)
        if match:
            groups = [g for g in match.groups() if g]
            where = f"{groups[1]}.{groups[0]}" if len(groups) == 2 else (groups[0] if groups else "")
            # SQLite rebuilds a table as new__<table> and renames it: name the table the learner knows.
            return kind, where.replace("new__", "").rstrip(",")
    return "", ""


_INTEGRITY_FIX = {
    ("NOT NULL", "Applying"): "give the field a default (or null=True) in that migration, or fill the column "
    "with a RunPython step before it becomes NOT NULL, then migrate again.",
    ("NOT NULL", "Unapplying"): "the rollback re-adds the column with no value for the rows already there: "
    "give the field a default (or null=True) in the migration that removed it, or empty the table first, "
    "or stop the rollback before that migration.",
    ("UNIQUE", "Applying"): "remove the duplicate values first (a RunPython step before the constraint), "
    "or drop unique=True, then migrate again.",
    ("UNIQUE", "Unapplying"): "the rollback puts a unique constraint back over rows that now share a value: "
    "remove the duplicates first, or stop the rollback before that migration.",
    ("FOREIGN KEY", "Applying"): "fix or delete the rows that point to a row that does not exist "
    "(or make the foreign key null=True), then migrate again.",
    ("FOREIGN KEY", "Unapplying"): "the rollback puts a foreign key back over rows that point nowhere: "
    "fix or delete those rows first, or stop the rollback before that migration.",
}


@_rule
def _integrity_error_in_migrate(f: _Failure) -> Diagnosis | None:
    if not f.args or f.args[0] != "migrate":
        return None
    match = re.search(r"^\S*IntegrityError: (.+)$", f.stderr, re.MULTILINE)
    if not match:
        return None
    kind, where = _integrity_where(match.group(1))
    verb, migration = _migration_step(f)
    if not kind or not verb:
        return None
    doing = "Applying" if verb == "Applying" else "Rolling back"
    column = f" on {where}" if where else ""
    return Diagnosis(
        f"{doing} {migration} failed: the database refused the existing rows ({kind} constraint{column}). "
        f"Django stopped at {migration}, which is left as it was; the steps before it stay done.",
        _INTEGRITY_FIX[(kind, verb)],
        f"integrity_{kind.lower().replace(' ', '_')}_{'backwards' if verb == 'Unapplying' else 'forwards'}",
    )


@_rule
def _error_in_project_code(f: _Failure) -> Diagnosis | None:
    if f.exit_code == 0 or "Traceback" not in f.stderr:
        return None
    name, line = _where(f)
    if not name:
        return None
    return Diagnosis(
        f"Python stopped in {name} (line {line}): {last_line(f.stderr)}.",
        f"open {name}, correct line {line}, save, and run the command again.",
        "error_in_project",
    )
