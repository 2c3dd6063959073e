"""Programmatic twins of the studio's panel buttons: the same action, and optionally its result.

Notebooks and tests drive the studio the way a person does — ``studio.find_lr()`` presses the button
and waits for what the panel shows — so a tutorial cell and a click take the same path.
"""

from __future__ import annotations

from typing import Any


class ButtonTwins:
    """Mixed into `Studio`: each method presses a panel's button and, with ``wait``, returns its result."""

    train_panel: Any
    evaluate_panel: Any
    search_panel: Any

    def find_lr(self, wait: bool = True, timeout: float = 120) -> Any:
        """Run the LR finder (as its button does); returns the result when ``wait``."""
        self.train_panel.find_lr()
        if wait:
            self.train_panel.lr_task.wait(timeout)
            return self.train_panel.lr_result
        return None

    def pretrain(self, wait: bool = True, timeout: float | None = None) -> Any:
        """Pretrain the text transformer on unlabeled text (as the Training tab's button does); when ``wait``,
        returns the pretraining `Run` (its encoder is then the one the fine-tune choice uses)."""
        if not self.train_panel.pretrain.start():
            return None
        if wait:
            self.wait(timeout)  # type: ignore[attr-defined]
            return self.run  # type: ignore[attr-defined]
        return None

    def cross_validate(self, wait: bool = True, timeout: float | None = None) -> Any:
        """Start k-fold CV (as its button does); returns the CVResult when ``wait``."""
        if not self.evaluate_panel.start_cv():
            return None
        if wait:
            self.evaluate_panel.cv_task.wait(timeout)
            return self.evaluate_panel.cv_result
        return None

    def search(self, wait: bool = True, timeout: float | None = None) -> Any:
        """Start the search of the Search tab (as its button does); returns the `Study` when ``wait``."""
        if not self.search_panel.start():
            return None
        if wait:
            self.search_panel.task.wait(timeout)
            return self.search_panel.study
        return None
