"""The explain-a-misclassified-digit check asks for an answer about the sample itself, not any eight words."""

from __future__ import annotations

from types import SimpleNamespace

import torch

import lepton_nb as lnb
from lepton_nb.evaluation import evaluate_logits


class OneExplanation:
    """What `lnb.explain` returns for one sample, as far as the check reads it."""

    attributions, method = torch.zeros(1, 1, 8, 8), "integrated_gradients"
    target, delta = torch.tensor([2]), torch.tensor([0.01])

    def __len__(self) -> int:
        return 1


def _run_and_explanation():
    logits = torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, 3.0], [0.0, 3.0, 0.0]])  # sample 1: a 1 read as a 2
    ev = evaluate_logits(logits, torch.tensor([0, 1, 1]), ["0", "1", "2"])
    return SimpleNamespace(recipe=None, history=None, status="completed", metrics={}, evaluation=ev), OneExplanation()


def test_an_answer_that_names_neither_class_does_not_pass_and_the_hint_says_which_to_name():
    run, explanation = _run_and_explanation()
    boilerplate = ("The red pixels are the strokes the model took as evidence for its wrong class; the blue ones "
                   "argued for other classes.")
    fb = lnb.exercises.check("explain_misclassified", run=run, index=1, explanation=explanation, answer=boilerplate)
    assert not fb.passed
    assert "a 1 that the model read as a 2" in str(fb)
    specific = "It is a 1, read as a 2: the long bottom stroke looked like the base of a 2 and counted most for it."
    fb = lnb.exercises.check("explain_misclassified", run=run, index=1, explanation=explanation, answer=specific)
    assert fb.passed, str(fb)
