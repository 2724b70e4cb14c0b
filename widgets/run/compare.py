"""The same migration on SQLite and on PostgreSQL: sqlmigrate's SQL side by side, the differences explained.

One probe process collects the migration's SQL forwards and backwards on the
sandbox's own database (read-only) and on an empty database of the other
engine (SQLite in memory, or the workspace's PostgreSQL server), exactly as
``sqlmigrate`` would print it there.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from widgets.read.table import TableLike, table_html
from widgets.run.pg_locks import step_locks

__all__ = ["SqlComparison", "compare_sql", "differences"]

ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
DIRECTIONS = ("forwards", "backwards")


@dataclass(frozen=True)
class SqlComparison:
    """One migration's SQL on both databases, with what differs and the locks PostgreSQL takes."""

    app_label: str
    name: str
    sql: dict[str, dict[str, str]]  # engine -> direction -> SQL (or why there is none)
    notes: list[str]

    def locks(self, direction: str = "forwards") -> TableLike:
        """Return the table locks PostgreSQL takes for each statement in one direction."""
        return step_locks(self.sql["postgresql"][direction])

    def __str__(self) -> str:
        lines = [f"sqlmigrate {self.app_label} {self.name} on SQLite and on PostgreSQL"]
        for direction in DIRECTIONS:
            for engine, title in ENGINES.items():
                flag = " --backwards" if direction == "backwards" else ""
                lines += ["", f"-- {title}: sqlmigrate{flag} {self.app_label} {self.name}", self.sql[engine][direction]]
        lines += ["", "What differs:"] + [f"- {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{title}</th>" for title in ENGINES.values())
        rows = []
        for direction in DIRECTIONS:
            cells = "".join(
                f"<td style='vertical-align:top;text-align:left'><pre style='white-space:pre-wrap'>"
                f"{html.escape(self.sql[engine][direction])}</pre></td>"
                for engine in ENGINES
            )
            rows.append(f"<tr><th style='vertical-align:top'>{direction}</th>{cells}</tr>")
        notes = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
        locks = self.locks()
        lock_html = "<p>Locks PostgreSQL takes, forwards:</p>" + table_html(locks) if not locks.empty else ""
        return (
            f"<p><b>sqlmigrate {html.escape(self.app_label)} {html.escape(self.name)}</b> on both databases</p>"
            f"<table class='mk-compare'><tr><th></th>{head}</tr>{''.join(rows)}</table>"
            f"<p>What differs:</p><ul>{notes}</ul>{lock_html}"
        )


def compare_sql(sandbox, app_label: str, name: str) -> SqlComparison:
    """Return a migration's SQL, forwards and backwards, on SQLite and PostgreSQL side by side; read-only."""
    answer = sandbox.sql_compare(app_label, name)
    sql = {engine: {d: _text(answer["sql"][engine], d) for d in DIRECTIONS} for engine in ENGINES}
    return SqlComparison(app_label, answer["name"], sql, differences(sql))


def _text(collected: dict | None, direction: str) -> str:
    """Return one direction's SQL as sqlmigrate prints it, or the reason it has none."""
    if collected is None:
        return "-- (not available: no PostgreSQL server)"
    part = collected[direction]
    if "error" in part:
        return f"-- sqlmigrate could not show it: {part['error']['type']}: {part['error']['message']}"
    return part["text"].strip() or "-- (no SQL: this step only changes Django's state)"


def differences(sql: dict[str, dict[str, str]]) -> list[str]:
    """Explain, in plain sentences, what the two databases do differently with the same migration."""
    lite, pg = sql["sqlite"]["forwards"], sql["postgresql"]["forwards"]
    notes = []
    if "new__" in lite:
        notes.append(
            "SQLite cannot change this table in place, so Django rebuilds it: CREATE TABLE new__..., copy every "
            "row with INSERT ... SELECT, DROP the old table, RENAME the new one, then re-create its indexes. "
            "On a big table that rewrites every row."
        )
    if "ADD COLUMN" in pg:
        notes.append(
            "PostgreSQL adds the column in place with one ALTER TABLE ... ADD COLUMN. Since PostgreSQL 11 a constant "
            "default costs no rewrite, but the statement still needs an ACCESS EXCLUSIVE lock: it waits for every "
            "running transaction on the table, and every query that arrives after it waits too."
        )
    if "DROP DEFAULT" in pg:
        notes.append(
            "Django then drops the database default (ALTER COLUMN ... DROP DEFAULT): the default lives in your "
            "Python model, not in the database, so code that inserts rows without the new column (the old version "
            "of your site, during a deploy) fails with a NOT NULL error. Django 5's db_default keeps it in the database."
        )
    if "FOREIGN KEY" in pg and "REFERENCES" in lite and "FOREIGN KEY" not in lite:
        notes.append(
            "SQLite declares foreign keys inside CREATE TABLE; PostgreSQL adds each one afterwards with "
            "ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY, which locks both tables against writes while it checks "
            "every row."
        )
    if "GENERATED BY DEFAULT AS IDENTITY" in pg:
        notes.append(
            "Primary keys: SQLite's integer PRIMARY KEY AUTOINCREMENT is PostgreSQL's "
            "GENERATED BY DEFAULT AS IDENTITY (bigint for BigAutoField)."
        )
    if "varchar" in lite:
        notes.append(
            "Types: SQLite accepts varchar(n) but never enforces the length; PostgreSQL's character varying(n) "
            "refuses longer text."
        )
    if "CONCURRENTLY" in pg:
        notes.append(
            "CREATE INDEX CONCURRENTLY builds the index without blocking writes (SHARE UPDATE EXCLUSIVE); it cannot "
            "run inside a transaction, so the migration must say atomic = False. SQLite has no such thing."
        )
    elif "CREATE INDEX" in pg or "CREATE UNIQUE INDEX" in pg:
        notes.append(
            "CREATE INDEX on PostgreSQL holds a SHARE lock while it builds: reads go on, writes wait. "
            "On a big table, build it CONCURRENTLY instead (AddIndexConcurrently, atomic = False)."
        )
    if "BEGIN;" in pg and "BEGIN;" in lite:
        notes.append(
            "Both wrap the migration in BEGIN; ... COMMIT;: both can roll back schema changes, so a migration that "
            "fails half-way leaves nothing behind (MySQL, for one, cannot)."
        )
    if not notes:
        notes.append("Here both databases run the same statements.")
    return notes
