"""Recognise the questions Django asks on stdin, so the kit can ask them instead.

Django's ``makemigrations`` asks with ``input()``. The kit runs it with no
stdin, so an unanswered question ends in ``EOFError``; the question text is
what Django printed just before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEFAULT_VALUE_KINDS", "KINDS", "Prompt", "find_prompt"]

_NUMBERED_CHOICE = re.compile(r"^\s*(\d+)\) (.+)$", re.MULTILINE)

# (kind, pattern that identifies the question, what the learner is asked for)
_KINDS = (
    ("not_null_addition", r"It is impossible to add a non-nullable field '(?P<field>\w+)' to (?P<model>\w+)"),
    (
        "not_null_alteration",
        r"It is impossible to change a nullable field '(?P<field>\w+)' on (?P<model>\w+) to non-nullable",
    ),
    (
        "auto_now_add_addition",
        r"It is impossible to add the field '(?P<field>\w+)' with 'auto_now_add=True' to (?P<model>\w+)",
    ),
    ("unique_callable_default", r"Callable default on unique field (?P<model>\w+)\.(?P<field>\w+)"),
    ("rename_field", r"Was (?P<model>\w+)\.(?P<old>\w+) renamed to \w+\.(?P<field>\w+) \(a \w+\)\? \[y/N\]"),
    ("rename_model", r"Was the model (?P<app>\w+)\.(?P<old>\w+) renamed to (?P<model>\w+)\? \[y/N\]"),
    # Django 5.x asks the first; older versions asked the second.
    ("merge", r"Should these migration branches be merged\? \[y/N\]|Do you want to merge these migrations\? \[y/N\]"),
)

#: Every kind of question the kit recognises, in one place.
KINDS = tuple(kind for kind, _pattern in _KINDS)
#: Kinds whose first choice asks for a one-off default typed as Python.
DEFAULT_VALUE_KINDS = ("not_null_addition", "not_null_alteration", "auto_now_add_addition")

# What to answer, per kind: the fix half of the learner's sentence.
_FIXES = {
    "not_null_addition": "answer it (answers=['1', '0'] gives existing rows 0) or give the field a default in models.py.",
    "not_null_alteration": "answer it (answers=['1', '0'] fills existing NULLs with 0) or keep null=True in models.py.",
    "auto_now_add_addition": "answer it (answers=['1', ''] accepts timezone.now for existing rows).",
    "unique_callable_default": "answer it: answers=['1'] writes the migration, to be followed by one of your own "
    "that gives each row a unique value; ['2'] quits so you can change the field in models.py.",
    "rename_field": "answer it: answers=['y'] if it is a rename (the data is kept), ['n'] to drop and add (the data is "
    "lost); after 'n', if {field} is NOT NULL with no default, Django asks for a one-off default next: "
    "answers=['n', '1', {value}].",
    "rename_model": "answer it: answers=['y'] if it is a rename (the table is kept), ['n'] to drop and create it "
    "(no question follows).",
    "merge": "answer it: answers=['y'] writes a merge migration that depends on both branches.",
}


# The questions each answer may lead to, per kind: Django asks one question per change, in order.
_MAY_FOLLOW = {
    "not_null_addition": {"1": ("default_value",), "2": ()},
    "not_null_alteration": {"1": ("default_value",), "2": (), "3": ()},
    "auto_now_add_addition": {"1": ("default_value",), "2": ()},
    "unique_callable_default": {"1": (), "2": ()},
    # Answering no adds the new field as a new column, which asks what every added field may ask.
    "rename_field": {"y": (), "n": ("not_null_addition", "auto_now_add_addition", "unique_callable_default")},
    "rename_model": {"y": (), "n": ()},
    "merge": {"y": (), "n": ()},
}
# A one-off default typed as Python, by the field's class, for the example answers of a hint.
_EXAMPLE_VALUES = {"CharField": "\"''\"", "TextField": "\"''\"", "SlugField": "\"''\"", "EmailField": "\"''\""}


@dataclass(frozen=True)
class Prompt:
    """A question Django asked on stdin, with the choices it offered."""

    kind: str
    question: str
    choices: tuple[str, ...]
    model: str = ""
    field: str = ""

    @property
    def is_yes_no(self) -> bool:
        """Return True when Django expects ``y`` or ``n``."""
        return self.question.rstrip().endswith("[y/N]")

    def answer(self, choice: int | str, value: str | None = None) -> list[str]:
        """Return the lines to feed on stdin: the choice, then a typed default if any."""
        lines = [str(choice)]
        if value is not None:
            lines.append(value)
        return lines

    def may_follow(self, answer: str) -> tuple[str, ...]:
        """Return the kinds of question Django may ask next after this answer ("default_value": a typed default)."""
        return _MAY_FOLLOW.get(self.kind, {}).get(str(answer).strip().lower()[:1], ())

    @property
    def fix(self) -> str:
        """Return what to answer, the questions that may follow included, as the fix half of a plain sentence."""
        text = _FIXES.get(self.kind, "answer it with answers=[...], one line per question.")
        field_class = re.search(r"\(a (\w+)\)\?", self.question)
        value = _EXAMPLE_VALUES.get(field_class.group(1) if field_class else "", "'0'")
        return text.format(field=self.field or "the new field", value=value)

    def __str__(self) -> str:
        return self.question


def find_prompt(stdout: str, stderr: str) -> Prompt | None:
    """Return the question Django was waiting on when stdin ran out, if any."""
    if "EOFError" not in stderr:
        return None
    question = _last_question(stdout)
    for kind, pattern in _KINDS:
        match = re.search(pattern, question)
        if match:
            parts = match.groupdict()
            return Prompt(kind, question, _choices(question), parts.get("model", ""), parts.get("field", ""))
    return Prompt("unknown", question, _choices(question))


def _last_question(stdout: str) -> str:
    """Return the text Django printed after its last complete report line."""
    marker = max(stdout.rfind("It is impossible"), stdout.rfind("Was "), stdout.rfind("Callable default"))
    marker = max(marker, stdout.rfind("Do you want to merge"), stdout.rfind("Should these migration branches"))
    return stdout[marker:].strip() if marker >= 0 else stdout.strip()


def _choices(question: str) -> tuple[str, ...]:
    """Return the numbered options of a question, or yes/no for a [y/N] one."""
    numbered = tuple(text.strip() for _, text in _NUMBERED_CHOICE.findall(question))
    if numbered:
        return numbered
    return ("y", "n") if "[y/N]" in question else ()
