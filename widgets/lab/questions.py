"""Django's questions during makemigrations, as values: the choices it accepts and the stdin lines that answer them.

Pure: no sandbox, no process; the session keeps a ``Question`` and turns the
learner's answer into the lines makemigrations reads on its next run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from widgets.errors import KitError
from widgets.run.prompts import DEFAULT_VALUE_KINDS, Prompt

__all__ = ["Question", "answers_for", "rejected_answer", "same_question"]


@dataclass(frozen=True)
class Question:
    """A question Django asked during makemigrations, with the answers that led to it."""

    prompt: Prompt
    answers: list[str]  # given before this question, replayed on the next run
    options: dict  # the makemigrations options to run again with the answer
    refused: bool = False  # Django asked the same question again: the last answer was not accepted

    @property
    def text(self) -> str:
        """Return Django's question without the line that asks for a typed default."""
        return self.prompt.question.split("Please enter the default value")[0].strip()

    @property
    def needs_default(self) -> bool:
        """Return True when the first choice asks for a typed one-off default."""
        return self.prompt.kind in DEFAULT_VALUE_KINDS

    @property
    def choices(self) -> list[tuple[str, str]]:
        """Return (label, value) for every answer Django accepts."""
        if self.prompt.is_yes_no:
            return [("yes", "y"), ("no", "n")]
        return [(f"{i}) {text}", str(i)) for i, text in enumerate(self.prompt.choices, 1)]

    @property
    def complaint(self) -> str:
        """Return Django's complaint about the last typed default, if it refused one."""
        return rejected_answer(self.prompt) if self.refused else ""


def answers_for(prompt: Prompt, choice: int | str, value: str | None = None) -> list[str]:
    """Return the stdin lines for one question: the choice, then a typed default if it needs one."""
    if prompt.is_yes_no:
        return ["y" if str(choice).lower() in ("y", "yes", "1", "true") else "n"]
    choice = str(choice).strip()
    if choice == "1" and prompt.kind in DEFAULT_VALUE_KINDS:
        value = (value or "").strip()
        if not value:
            raise KitError(
                "Django needs a default value for the existing rows. Fix: type one as Python, e.g. 0 or timezone.now."
            )
        return [choice, value]
    return [choice]


def same_question(first: Prompt | None, second: Prompt | None) -> bool:
    """Return True when Django asked the same question again (the last answer was refused)."""
    if first is None or second is None:
        return False
    return first.question.splitlines()[0] == second.question.splitlines()[0]


def rejected_answer(prompt: Prompt) -> str:
    """Return Django's complaint about a typed default, e.g. a SyntaxError, or ''."""
    complaints = re.findall(r"^>>> (.+)$", prompt.question, re.MULTILINE)
    return complaints[-1].strip() if complaints else ""
