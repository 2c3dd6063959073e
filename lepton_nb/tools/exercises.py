"""Self-checks for the classroom exercises in ``notebooks/exercises``.

``lnb.exercises.check("augmentation", run=run)`` returns `Feedback`: a list of passed and missing
points, each with a specific hint, shown as text or HTML in a notebook. A check never raises on a
student's answer: an unfinished notebook still runs and says what is left to do.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..recipe import Recipe

#: the data settings of the augmentation exercise: 200 training digits, 250 test digits
AUGMENTATION_DATA = {"data.source": "digits", "data.limit": 500, "data.test_fraction": 0.5, "data.val_fraction": 0.1,
                     "data.seed": 0}


def augmentation_starter() -> Recipe:
    """The exercise's starting recipe: few training images and no augmentation (about 96 % at best)."""
    return Recipe.default().updated({**AUGMENTATION_DATA, "augment.ops": [], "train.epochs": 12,
                                     "name": "augmentation-exercise"})


#: the data and training settings of the search exercise: small and quick, so a search of 8 trials takes a minute
SEARCH_SETTINGS = {"data.source": "digits", "data.limit": 500, "data.seed": 0, "train.epochs": 3,
                   "train.batch_size": 32}


def search_starter() -> Recipe:
    """The search exercise's starting recipe: quick trials, no attribution probes, nothing searched yet."""
    return Recipe.default().updated({**SEARCH_SETTINGS, "interpret.enabled": False, "name": "search-exercise"})


def transformers_starter() -> Recipe:
    """The Transformer exercise's recipe: a small text_transformer on the bundled review sentences, with
    pretraining settings for `lnb.pretrain`."""
    from ..datasets import reviews_path

    return Recipe.preset("sentiment").updated({
        "name": "transformers-exercise", "data.path": str(reviews_path()), "data.max_len": 24,
        "model.arch": "text_transformer", "model.embed_dim": 32, "model.heads": 2, "model.depth": 2,
        "model.hidden": 64, "model.dropout": 0.1, "augment.ops": [], "interpret.enabled": False,
        "train.lr": 5e-3, "train.batch_size": 16, "train.epochs": 12, "train.scheduler": "one_cycle",
        "pretrain.epochs": 15, "pretrain.batch_size": 16, "pretrain.lr": 3e-3})


@dataclass
class Feedback:
    exercise: str
    points: list[tuple[bool, str]] = field(default_factory=list)

    def ok(self, condition: bool, good: str, hint: str) -> bool:
        self.points.append((bool(condition), good if condition else hint))
        return bool(condition)

    @property
    def passed(self) -> bool:
        return bool(self.points) and all(p for p, _ in self.points)

    def headline(self) -> str:
        done = sum(p for p, _ in self.points)
        if self.passed:
            return f"Exercise '{self.exercise}': all {done} checks passed — well done!"
        return f"Exercise '{self.exercise}': {done} of {len(self.points)} checks passed — not yet, keep going."

    def __str__(self) -> str:
        return "\n".join([self.headline(), *(f"  {'✓' if p else '✗'} {text}" for p, text in self.points)])

    def _repr_html_(self) -> str:
        color = "#1b5e20" if self.passed else "#8d6e00"
        items = "".join(f"<li style='color:{'#1b5e20' if p else '#b71c1c'}'>{'✓' if p else '✗'} "
                        f"{html.escape(text)}</li>" for p, text in self.points)
        return (f"<div class='lnb-feedback'><b style='color:{color}'>{html.escape(self.headline())}</b>"
                f"<ul style='list-style:none;padding-left:8px'>{items}</ul></div>")


def _is_run(value: Any) -> bool:
    return hasattr(value, "recipe") and hasattr(value, "history") and hasattr(value, "status")


def check_augmentation(run: Any = None, **_: Any) -> Feedback:
    """Reach 97 % test accuracy on 200 training digits by adding augmentation."""
    fb = Feedback("augmentation")
    if not fb.ok(_is_run(run), "you passed a finished run",
                 "pass the run returned by lnb.train(recipe), e.g. check('augmentation', run=run)"):
        return fb
    r = run.recipe
    same_data = all(r.get(k) == v for k, v in AUGMENTATION_DATA.items())
    fb.ok(same_data, "the data settings are the exercise's (200 training, 250 test digits)",
          "keep the data section as in the starter (limit 500, test_fraction 0.5, val_fraction 0.1, seed 0): "
          "the point is to do better with the same few images")
    ops = r.augment.ops if r.augment.enabled else []
    fb.ok(bool(ops), f"augmentation is on ({', '.join(o['op'] for o in ops)})",
          "add augmentation ops to recipe.augment.ops, e.g. {'op': 'affine', 'degrees': 10, 'translate': 0.1, "
          "'scale': 0.1, 'shear': 0}")
    flips = [o["op"] for o in ops if o["op"] in ("horizontal_flip", "vertical_flip")]
    fb.ok(not flips, "no mirroring (a mirrored 2 is no 2)",
          f"remove {', '.join(flips)}: mirrored digits are not digits any more, so the model learns wrong labels")
    fb.ok(run.status == "completed", "the run completed", f"the run ended as '{run.status}': {run.message}")
    acc = run.metrics.get("accuracy", 0.0)
    fb.ok(acc >= 0.97, f"test accuracy {acc:.1%} ≥ 97 %",
          f"test accuracy is {acc:.1%}; augmented images are harder to fit, so give the model more epochs "
          "(e.g. 60) and try stronger or combined ops")
    return fb


def check_lr_finder(result: Any = None, recipe: Any = None, run: Any = None, **_: Any) -> Feedback:
    """Run the LR finder, choose a learning rate from it, and train well with it."""
    fb = Feedback("lr_finder")
    has_result = result is not None and hasattr(result, "lrs") and hasattr(result, "suggestion")
    fb.ok(has_result and len(result.lrs) >= 30, "you ran the learning-rate range test",
          "run result = lnb.lr_find(recipe) and pass it: check('lr_finder', result=result, recipe=..., run=...)")
    if not fb.ok(isinstance(recipe, Recipe), "you passed your chosen recipe",
                 "pass the recipe with the learning rate you chose: recipe=recipe.updated({'train.lr': ...})"):
        return fb
    lr = recipe.train.lr
    if has_result and result.suggestion:
        s = result.suggestion
        fb.ok(s / 3 <= lr <= s * 10, f"your lr {lr:.2g} is near the suggestion {s:.2g} (÷3 to ×10)",
              f"your lr {lr:.2g} is far from the finder's suggestion {s:.2g}: read the plot — the loss falls "
              "fastest around the suggestion; with one_cycle, a peak of 3-10× it works well")
    if fb.ok(_is_run(run), "you trained with it", "train with your recipe and pass the run: run=lnb.train(recipe)"):
        fb.ok(abs(run.recipe.train.lr - lr) <= 1e-12 * max(1.0, lr), "the run used your learning rate",
              "train the run with the recipe you passed (its learning rate differs)")
        acc = run.metrics.get("accuracy", 0.0)
        fb.ok(acc >= 0.95, f"test accuracy {acc:.1%} ≥ 95 %", f"test accuracy is {acc:.1%}; try another lr nearby")
    return fb


def check_explain_misclassified(run: Any = None, index: Any = None, explanation: Any = None, answer: str = "",
                                **_: Any) -> Feedback:
    """Explain a misclassified test digit with Integrated Gradients and say what the model saw."""
    fb = Feedback("explain_misclassified")
    if not fb.ok(_is_run(run) and run.evaluation is not None, "you passed a finished, evaluated run",
                 "pass the run returned by lnb.train(recipe): check(..., run=run, ...)"):
        return fb
    ev = run.evaluation
    wrong = ev.misclassified()
    valid = isinstance(index, (int, np.integer)) and 0 <= int(index) < len(ev.y_true)
    if not fb.ok(valid and int(index) in set(wrong.tolist()),
                 f"test sample #{index} is misclassified ({ev.classes[ev.y_true[index]] if valid else ''} → "
                 f"{ev.classes[ev.y_pred[index]] if valid else ''})",
                 f"choose a misclassified test index, e.g. one of {wrong[:5].tolist()} "
                 "(run.evaluation.misclassified())"):
        return fb
    has_exp = explanation is not None and hasattr(explanation, "attributions")
    if not fb.ok(has_exp and len(explanation) == 1, "you explained one sample",
                 "compute e = lnb.explain(run, run.data.inputs('test')[[index]], method='integrated_gradients', "
                 "n_steps=100) and pass explanation=e"):
        return fb
    fb.ok(explanation.method == "integrated_gradients", "with Integrated Gradients",
          "use method='integrated_gradients': its delta tells how exactly it accounts for the score")
    fb.ok(int(explanation.target[0]) in (int(ev.y_pred[index]), int(ev.y_true[index])),
          "for the predicted or the true class", "explain the predicted class (target='pred') or the true one")
    delta = float(explanation.delta.abs().max()) if explanation.delta is not None else float("inf")
    fb.ok(delta < 0.05, f"the attributions are complete (|delta| = {delta:.3f} < 0.05)",
          f"|delta| is {delta:.3f}: increase n_steps (e.g. 100 or 200) until it is below 0.05")
    true, pred = ev.classes[ev.y_true[index]], ev.classes[ev.y_pred[index]]
    text = answer if isinstance(answer, str) else ""
    named = set(re.findall(r"\w+", text.lower()))
    fb.ok(len(text.split()) >= 8 and {true.lower(), pred.lower()} <= named,
          f"you wrote down what the model looked at (and named {true} and {pred})",
          f"write a sentence or two in `answer` about this sample: it is a {true} that the model read as a {pred} "
          f"(name both) — which strokes pushed it towards {pred}, which ones spoke for {true}?")
    return fb


#: the robustness exercise: PGD at this ε (pixels in [0, 1]) must leave this accuracy on the test digits
ROBUST_EPS, ROBUST_TARGET, ROBUST_CLEAN = 0.1, 0.6, 0.9


def check_robustness(run: Any = None, curve: Any = None, **_: Any) -> Feedback:
    """Keep ≥ 60 % test accuracy under PGD at ε = 0.1 while clean accuracy stays ≥ 90 %, with honest checks."""
    fb = Feedback("robustness")
    if not fb.ok(_is_run(run), "you passed a finished run",
                 "pass the run returned by lnb.train(recipe): check('robustness', run=run, curve=curve)"):
        return fb
    method = run.recipe.train.adversarial.method
    fb.ok(method != "none", f"the run trained adversarially ({method})",
          "set recipe.updated({'train.adversarial.method': 'fgsm_rs'}) (or 'pgd'): a standard model loses about "
          "half its accuracy at ε = 0.1")
    has_curve = all(hasattr(curve, a) for a in ("eps", "accuracy", "checks", "run", "n"))
    if not fb.ok(has_curve, "you measured a robustness curve",
                 "measure it: (curve,) = lnb.robustness(run, eps=[0, 0.05, 0.1, 0.2], n=300) and pass curve=curve"):
        return fb
    fb.ok(curve.run == run.name, "the curve is the run's own", f"the curve is of '{curve.run}', not of '{run.name}'")
    fb.ok(curve.split == "test" and curve.n >= 200, f"on {curve.n} test samples",
          "measure on at least 200 test samples (n=300): fewer samples make the accuracy noisy")
    fb.ok("pgd" in curve.accuracy and curve.steps >= 10, f"with PGD, {curve.steps} steps",
          "include PGD with at least 10 steps (the default 20): a one-step attack overstates robustness")
    if not fb.ok(ROBUST_EPS in curve.eps and 0.0 in curve.eps, "the curve includes ε = 0 and ε = 0.1",
                 "include 0 (clean accuracy) and 0.1 in eps"):
        return fb
    clean = curve.accuracy["pgd"][curve.eps.index(0.0)] if "pgd" in curve.accuracy else 0.0
    robust = curve.accuracy["pgd"][curve.eps.index(ROBUST_EPS)] if "pgd" in curve.accuracy else 0.0
    fb.ok(clean >= ROBUST_CLEAN, f"clean accuracy {clean:.1%} ≥ 90 %",
          f"clean accuracy is {clean:.1%}: a too large training ε or too few epochs cost clean accuracy")
    fb.ok(robust >= ROBUST_TARGET, f"accuracy under PGD at ε = 0.1: {robust:.1%} ≥ 60 %",
          f"accuracy under PGD at ε = 0.1 is {robust:.1%}; train adversarially at ε = 0.1 for a few more epochs")
    failed = [c.name for c in curve.checks if not c.passed]
    fb.ok(bool(curve.checks) and not failed, "every sanity check against gradient masking passed",
          f"failed sanity checks: {', '.join(failed)} — robustness that only hides the gradients does not count"
          if failed else "measure the curve with its sanity checks on (checks=True, methods fgsm, pgd and noise)")
    return fb


def check_search(study: Any = None, run: Any = None, **_: Any) -> Feedback:
    """Search the learning rate and one more field with Optuna, then train the best recipe."""
    fb = Feedback("search")
    if not fb.ok(hasattr(study, "trials") and hasattr(study, "best_recipe") and hasattr(study, "recipe"),
                 "you passed a study", "run study = lnb.tune(recipe, out=...) and pass it: check('search', "
                 "study=study, run=run)"):
        return fb
    r = study.recipe
    space = r.search.space
    fb.ok(all(r.get(k) == v for k, v in SEARCH_SETTINGS.items()), "the data and epochs are the starter's",
          "keep the starter's data.limit, data.seed, train.epochs and train.batch_size: the search should find "
          "better hyperparameters, not more data or epochs")
    lr = next(iter(space.get("train.lr", {"": None})))
    fb.ok(lr == "log_uniform", "train.lr is searched on a log scale",
          "search train.lr with {'log_uniform': [1e-4, 1e-1]}: learning rates span orders of magnitude, so a "
          "uniform range would almost never try the small ones")
    fb.ok(len(space) >= 2, f"{len(space)} fields are searched", "search at least one more field, e.g. "
          "model.width with {'choice': [8, 16, 32]} or train.weight_decay with {'uniform': [0, 0.1]}")
    fb.ok(r.search.pruner != "none", f"the {r.search.pruner} pruner stops poor trials early",
          "keep a pruner (search.pruner 'median'): poor trials stop after an epoch and leave time for others")
    finished = int(study.trials.state.isin(["complete", "pruned"]).sum())
    fb.ok(finished >= 8, f"{finished} trials finished", f"only {finished} trials finished: run at least 8 "
          "(search.trials or lnb.tune(..., trials=8); resume=True continues the same study)")
    best = study.best_recipe
    if not fb.ok(best is not None and _is_run(run), "you trained the best recipe",
                 "train the study's best recipe and pass the run: run = lnb.train(study.best_recipe)"):
        return fb
    same = all(run.recipe.get(k) == v for k, v in study.best_params.items())
    fb.ok(same, "the run used the best trial's values", "train study.best_recipe itself: the run's values "
          "differ from the best trial's")
    acc = run.metrics.get("accuracy", 0.0)
    fb.ok(acc >= 0.85, f"test accuracy {acc:.1%} ≥ 85 %", f"test accuracy is {acc:.1%}; widen the learning-rate "
          "range (1e-4 to 1e-1) and run more trials")
    return fb


def check_transformers(run: Any = None, view: Any = None, top_token: Any = "", **_: Any) -> Feedback:
    """LoRA on a pretrained encoder (≤ 10 % of the parameters train, ≥ 70 % accuracy) and the token with the
    largest attention-rollout share."""
    fb = Feedback("transformers")
    if not fb.ok(_is_run(run) and run.evaluation is not None and run.model is not None,
                 "you passed a finished, evaluated run",
                 "train it: run = lnb.train(lora_recipe, progress=False, out=workdir.name), then pass run=run"):
        return fb
    m = run.recipe.model
    fb.ok(m.arch == "text_transformer", "it is a text_transformer", "keep model.arch text_transformer")
    loaded = (run.extras.get("init") or {}).get("loaded", [])
    fb.ok(bool(m.init_from) and "features" in loaded, "it starts from the pretrained encoder",
          "set model.init_from to str(pre.dir): the pretrained run folder")
    fb.ok(m.adapter.kind == "lora", f"it has LoRA adapters (r={m.adapter.r})",
          'set model.adapter to {"kind": "lora", "r": 4, "alpha": 8, "targets": ["q", "v"]}')
    trainable = sum(p.numel() for p in run.model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in run.model.parameters())
    share = trainable / max(1, total)
    fb.ok(share <= 0.10, f"{100 * share:.1f} % of the parameters trained (≤ 10 %)",
          f"{100 * share:.1f} % of the parameters trained: freeze the rest (model.freeze 'features') and keep r small")
    acc = float(run.metrics.get("accuracy", 0.0))
    fb.ok(acc >= 0.70, f"test accuracy {100 * acc:.1f} % (≥ 70 %)",
          f"test accuracy {100 * acc:.1f} %: adapters learn slowly at small rates; try train.lr 1e-2 or more epochs")
    if not fb.ok(hasattr(view, "rollout") and hasattr(view, "tokens"), "you computed an attention view",
                 'view = lnb.explain_attention(run, ["a sentence"])[0]'):
        return fb
    tokens, shares = list(view.tokens), np.asarray(view.rollout)
    start = 1 if tokens and tokens[0] == "[CLS]" else 0
    best = tokens[start + int(np.argmax(shares[start:]))] if len(tokens) > start else ""
    fb.ok(top_token == best, f"'{best}' flows most into the sentence vector",
          "top_token: the token of view.tokens (after [CLS]) whose view.rollout share is largest")
    return fb


EXERCISES: dict[str, Callable[..., Feedback]] = {
    "augmentation": check_augmentation,
    "lr_finder": check_lr_finder,
    "explain_misclassified": check_explain_misclassified,
    "robustness": check_robustness,
    "search": check_search,
    "transformers": check_transformers,
}


def check(exercise: str, **answers: Any) -> Feedback:
    """Check an exercise; returns `Feedback` (rendered as a list of ✓/✗ points with hints)."""
    if exercise not in EXERCISES:
        fb = Feedback(str(exercise))
        fb.ok(False, "", f"exercise: {exercise!r} — allowed: {', '.join(EXERCISES)}")
        return fb
    return EXERCISES[exercise](**answers)
