"""An exercise's check cell as Voila shows it: what to do on the page, and a button that checks.

Voila runs every cell once and hides the code, so a check cell cannot be run
again there and a learner cannot type an answer into a code cell. In Voila
``check.exercise(...)`` therefore shows this box instead of a verdict: the
question, what to do on this page, a box for a typed answer (or a list of the
options), and **check**, which reads the sandbox again and says ✔ or ✘ with
the hint, in a line screen readers announce.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as ipw

from widgets.lab.lab_widgets import LiveStatus, button
from widgets.lessons.catalogue import Exercise
from widgets.lessons.checks import Check

__all__ = ["ExerciseBox", "what_to_do"]


def what_to_do(spec: Exercise) -> str:
    """Say what a learner does on a Voila page to answer the exercise."""
    if spec.typed and spec.options:
        return f"{spec.question}: pick your answer and click check."
    if spec.typed:
        return f"{spec.question}: type your answer in the box and click check."
    return f"{spec.question}: do it with the panel on this page, then click check."


class ExerciseBox(ipw.VBox):
    """The question, a control to answer (for a typed question), check, and the verdict once checked."""

    def __init__(self, spec: Exercise, check: Callable[[object], Check]) -> None:
        self.spec = spec
        self._check = check
        self.verdict: Check | None = None
        self.prompt = ipw.HTML(f"<p>{html.escape(what_to_do(spec))}</p>")
        self.answer = self._answer_control(spec)
        self.check_button = button("check", "check")
        self.check_button.on_click(self._clicked)
        self.status = LiveStatus()
        self.status.add_class("mk-exercise-verdict")
        controls = ipw.HBox([c for c in (self.answer, self.check_button) if c is not None])
        controls.layout.flex_flow = "row wrap"
        super().__init__([self.prompt, controls, self.status])
        self.add_class("mk-exercise")

    @staticmethod
    def _answer_control(spec: Exercise) -> ipw.Widget | None:
        if not spec.typed:
            return None
        if spec.options:
            return ipw.Dropdown(
                options=list(spec.options), description="your answer", style={"description_width": "auto"}
            )
        return ipw.Text(description="your answer", style={"description_width": "auto"}, layout={"width": "20em"})

    def __repr__(self) -> str:
        # The default widget repr lists every child's value and changes with the layout.
        return f"ExerciseBox({self.spec.id!r})"

    def _clicked(self, _button=None) -> None:
        self.run()

    def run(self) -> Check | None:
        """Check the exercise now (what the button does) and show the verdict."""
        answer = self.answer.value if self.answer is not None else None
        if isinstance(answer, str) and not answer.strip():
            self.status.value = "<p>Type your answer in the box first, then click check.</p>"
            return None
        self.verdict = self._check(answer)
        tone = "mk-ok" if self.verdict else "mk-fail"
        self.status.value = f"<p class='{tone}'>{html.escape(str(self.verdict))}</p>"
        return self.verdict
