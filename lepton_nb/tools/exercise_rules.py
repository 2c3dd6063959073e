"""The checks of each classroom exercise: what they ask (named, declared up front) and how they judge an answer.

Each ``grade_*`` records its checks on a `Feedback` by name and may stop early when a later check cannot be
judged (no run to look at); `Feedback.finish` then lists the remaining ones as "not checked yet". A check
never trusts an answer's type: students pass None, a half-made object, or the wrong thing, and get a hint.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..feedback import Feedback
from ..recipe import Recipe

#: the data settings of the augmentation exercise: 200 training digits, 250 test digits
AUGMENTATION_DATA = {"data.source": "digits", "data.limit": 500, "data.test_fraction": 0.5, "data.val_fraction": 0.1,
                     "data.seed": 0}
#: the data and training settings of the search exercise: small and quick, so a search of 8 trials takes a minute
SEARCH_SETTINGS = {"data.source": "digits", "data.limit": 500, "data.seed": 0, "train.epochs": 3,
                   "train.batch_size": 32}
#: the robustness exercise: PGD at this ε (pixels in [0, 1]) must leave this accuracy on the test digits
ROBUST_EPS, ROBUST_TARGET, ROBUST_CLEAN = 0.1, 0.6, 0.9


def is_run(value: Any) -> bool:
    return all(hasattr(value, a) for a in ("recipe", "history", "status", "metrics"))


def accuracy_of(run: Any) -> float:
    try:
        return float(run.metrics.get("accuracy", 0.0))
    except (TypeError, ValueError, AttributeError):
        return 0.0


def n_classes(run: Any) -> int:
    ev = getattr(run, "evaluation", None)
    classes = getattr(ev, "classes", None) or getattr(getattr(run, "data", None), "classes", None)
    return max(2, len(classes)) if classes else 10


AUGMENTATION = {
    "run": "you passed a finished run",
    "same_data": "the data settings are the exercise's",
    "augmented": "augmentation is on",
    "no_mirroring": "no mirroring",
    "completed": "the run completed",
    "accuracy": "test accuracy ≥ 97 %",
}


def grade_augmentation(fb: Feedback, run: Any = None) -> None:
    """Reach 97 % test accuracy on 200 training digits by adding augmentation."""
    if not fb.ok("run", is_run(run), "you passed a finished run",
                 "pass the run returned by lnb.train(recipe), e.g. check('augmentation', run=run)"):
        return
    r = run.recipe
    fb.ok("same_data", all(r.get(k) == v for k, v in AUGMENTATION_DATA.items()),
          "the data settings are the exercise's (200 training, 250 test digits)",
          "keep the data section as in the starter (limit 500, test_fraction 0.5, val_fraction 0.1, seed 0): "
          "the point is to do better with the same few images")
    ops = r.augment.ops if r.augment.enabled else []
    fb.ok("augmented", bool(ops), f"augmentation is on ({', '.join(o['op'] for o in ops)})",
          "add augmentation ops to recipe.augment.ops, e.g. {'op': 'affine', 'degrees': 10, 'translate': 0.1, "
          "'scale': 0.1, 'shear': 0}")
    flips = [o["op"] for o in ops if o["op"] in ("horizontal_flip", "vertical_flip")]
    fb.ok("no_mirroring", not flips, "no mirroring (a mirrored 2 is no 2)",
          f"remove {', '.join(flips)}: mirrored digits are not digits any more, so the model learns wrong labels")
    fb.ok("completed", run.status == "completed", "the run completed",
          f"the run ended as '{run.status}': {run.message}")
    acc = accuracy_of(run)
    fb.ok("accuracy", acc >= 0.97, f"test accuracy {acc:.1%} ≥ 97 %",
          f"test accuracy is {acc:.1%}; augmented images are harder to fit, so give the model more epochs "
          "(e.g. 60) and try stronger or combined ops")


LR_FINDER = {
    "range_test": "you ran the learning-rate range test",
    "recipe": "you passed your chosen recipe",
    "near_suggestion": "your lr is near the finder's suggestion",
    "run": "you trained with it",
    "same_lr": "the run used your learning rate",
    "accuracy": "test accuracy ≥ 95 %",
}


def lr_direction(lr: float, suggestion: float | None, run: Any) -> str:
    """Which way to move the learning rate, from the finder's suggestion and how the run went: a run that
    diverged or ended at chance level with a large rate needs a smaller one, not "another one nearby"."""
    at_chance = accuracy_of(run) <= 1.5 / n_classes(run)
    diverged = getattr(run, "status", "") == "diverged"
    s = suggestion
    too_large = bool(s and lr > 10 * s) or diverged or (at_chance and (lr >= s if s else lr >= 0.05))
    too_small = bool(s and lr < s / 3) or (not s and at_chance and lr <= 1e-4)
    hint = f" (the finder suggests {s:.2g}; with one_cycle a peak of 3-10× that works well)" if s else \
        " (lnb.lr_find(recipe) shows where the loss falls fastest)"
    if too_large:
        why = "the loss diverged: " if diverged else "accuracy is at chance level: " if at_chance else ""
        return f"{why}lr {lr:.2g} is too large — try a smaller lr{hint}"
    if too_small:
        return f"lr {lr:.2g} is too small to learn in these epochs — try a larger lr{hint}"
    if at_chance:
        return f"the model learned nothing at lr {lr:.2g} — run the range test to see which way to move{hint}"
    return f"lr {lr:.2g} is in the right range — try another lr nearby (×2 or ÷2) or more epochs"


def grade_lr_finder(fb: Feedback, result: Any = None, recipe: Any = None, run: Any = None) -> None:
    """Run the LR finder, choose a learning rate from it, and train well with it."""
    lrs = getattr(result, "lrs", None)
    has_result = lrs is not None and hasattr(result, "suggestion")
    fb.ok("range_test", has_result and len(lrs) >= 30, "you ran the learning-rate range test",
          "run result = lnb.lr_find(recipe) and pass it: check('lr_finder', result=result, recipe=..., run=...)")
    if not fb.ok("recipe", isinstance(recipe, Recipe), "you passed your chosen recipe",
                 "pass the recipe with the learning rate you chose: recipe=recipe.updated({'train.lr': ...})"):
        return
    lr = recipe.train.lr
    s = result.suggestion if has_result and result.suggestion else None
    if s is None:
        fb.ok("near_suggestion", False, "", "the range test gave no suggestion to compare with: run lnb.lr_find "
              "on the default recipe and pass result=result")
    else:
        fb.ok("near_suggestion", s / 3 <= lr <= s * 10, f"your lr {lr:.2g} is near the suggestion {s:.2g} (÷3 to ×10)",
              f"your lr {lr:.2g} is {'far above' if lr > s else 'far below'} the finder's suggestion {s:.2g}: "
              "read the plot — the loss falls fastest around the suggestion; with one_cycle, a peak of 3-10× it "
              "works well")
    if not fb.ok("run", is_run(run), "you trained with it",
                 "train with your recipe and pass the run: run=lnb.train(recipe)"):
        return
    fb.ok("same_lr", abs(run.recipe.train.lr - lr) <= 1e-12 * max(1.0, lr), "the run used your learning rate",
          "train the run with the recipe you passed (its learning rate differs)")
    acc = accuracy_of(run)
    fb.ok("accuracy", acc >= 0.95, f"test accuracy {acc:.1%} ≥ 95 %",
          f"test accuracy is {acc:.1%}: {lr_direction(run.recipe.train.lr, s, run)}")


EXPLAIN = {
    "run": "you passed a finished, evaluated run",
    "misclassified": "the test sample you chose is misclassified",
    "one_sample": "you explained one sample",
    "method": "with Integrated Gradients",
    "target": "for the predicted or the true class",
    "complete": "the attributions are complete (|delta| < 0.05)",
    "answer": "you wrote down what the model looked at, naming the true and the predicted class",
}


def grade_explain_misclassified(fb: Feedback, run: Any = None, index: Any = None, explanation: Any = None,
                                answer: Any = "") -> None:
    """Explain a misclassified test digit with Integrated Gradients and say what the model saw."""
    if not fb.ok("run", is_run(run) and getattr(run, "evaluation", None) is not None,
                 "you passed a finished, evaluated run",
                 "pass the run returned by lnb.train(recipe): check(..., run=run, ...)"):
        return
    ev = run.evaluation
    wrong = ev.misclassified()
    valid = isinstance(index, (int, np.integer)) and not isinstance(index, bool) and 0 <= int(index) < len(ev.y_true)
    if not fb.ok("misclassified", valid and int(index) in set(wrong.tolist()),
                 f"test sample #{index} is misclassified ({ev.classes[ev.y_true[index]] if valid else ''} → "
                 f"{ev.classes[ev.y_pred[index]] if valid else ''})",
                 f"choose a misclassified test index, e.g. one of {wrong[:5].tolist()} "
                 "(run.evaluation.misclassified())"):
        return
    has_exp = explanation is not None and hasattr(explanation, "attributions")
    if not fb.ok("one_sample", has_exp and len(explanation) == 1, "you explained one sample",
                 "compute e = lnb.explain(run, run.data.inputs('test')[[index]], method='integrated_gradients', "
                 "n_steps=100) and pass explanation=e"):
        return
    fb.ok("method", explanation.method == "integrated_gradients", "with Integrated Gradients",
          "use method='integrated_gradients': its delta tells how exactly it accounts for the score")
    fb.ok("target", int(explanation.target[0]) in (int(ev.y_pred[index]), int(ev.y_true[index])),
          "for the predicted or the true class", "explain the predicted class (target='pred') or the true one")
    delta = float(explanation.delta.abs().max()) if explanation.delta is not None else float("inf")
    fb.ok("complete", delta < 0.05, f"the attributions are complete (|delta| = {delta:.3f} < 0.05)",
          f"|delta| is {delta:.3f}: increase n_steps (e.g. 100 or 200) until it is below 0.05")
    true, pred = ev.classes[ev.y_true[index]], ev.classes[ev.y_pred[index]]
    text = answer if isinstance(answer, str) else ""
    named = set(re.findall(r"\w+", text.lower()))
    fb.ok("answer", len(text.split()) >= 8 and {true.lower(), pred.lower()} <= named,
          f"you wrote down what the model looked at (and named {true} and {pred})",
          f"write a sentence or two in `answer` about this sample: it is a {true} that the model read as a {pred} "
          f"(name both) — which strokes pushed it towards {pred}, which ones spoke for {true}?")


ROBUSTNESS = {
    "run": "you passed a finished run",
    "adversarial": "the run trained adversarially",
    "curve": "you measured a robustness curve",
    "own_curve": "the curve is the run's own",
    "samples": "on at least 200 test samples",
    "pgd": "with PGD, at least 10 steps",
    "eps": "the curve includes ε = 0 and ε = 0.1",
    "clean": "clean accuracy ≥ 90 %",
    "robust": "accuracy under PGD at ε = 0.1 ≥ 60 %",
    "sanity": "every sanity check against gradient masking passed",
}


def grade_robustness(fb: Feedback, run: Any = None, curve: Any = None) -> None:
    """Keep ≥ 60 % test accuracy under PGD at ε = 0.1 while clean accuracy stays ≥ 90 %, with honest checks."""
    if not fb.ok("run", is_run(run), "you passed a finished run",
                 "pass the run returned by lnb.train(recipe): check('robustness', run=run, curve=curve)"):
        return
    method = run.recipe.train.adversarial.method
    fb.ok("adversarial", method != "none", f"the run trained adversarially ({method})",
          "set recipe.updated({'train.adversarial.method': 'fgsm_rs'}) (or 'pgd'): a standard model loses about "
          "half its accuracy at ε = 0.1")
    if not fb.ok("curve", all(hasattr(curve, a) for a in ("eps", "accuracy", "checks", "run", "n")),
                 "you measured a robustness curve",
                 "measure it: (curve,) = lnb.robustness(run, eps=[0, 0.05, 0.1, 0.2], n=300) and pass curve=curve"):
        return
    fb.ok("own_curve", curve.run == run.name, "the curve is the run's own",
          f"the curve is of '{curve.run}', not of '{run.name}'")
    fb.ok("samples", curve.split == "test" and curve.n >= 200, f"on {curve.n} test samples",
          "measure on at least 200 test samples (n=300): fewer samples make the accuracy noisy")
    fb.ok("pgd", "pgd" in curve.accuracy and curve.steps >= 10, f"with PGD, {curve.steps} steps",
          "include PGD with at least 10 steps (the default 20): a one-step attack overstates robustness")
    if not fb.ok("eps", ROBUST_EPS in curve.eps and 0.0 in curve.eps, "the curve includes ε = 0 and ε = 0.1",
                 "include 0 (clean accuracy) and 0.1 in eps"):
        return
    clean = curve.accuracy["pgd"][curve.eps.index(0.0)] if "pgd" in curve.accuracy else 0.0
    robust = curve.accuracy["pgd"][curve.eps.index(ROBUST_EPS)] if "pgd" in curve.accuracy else 0.0
    fb.metrics["robust_accuracy"] = float(robust)
    fb.ok("clean", clean >= ROBUST_CLEAN, f"clean accuracy {clean:.1%} ≥ 90 %",
          f"clean accuracy is {clean:.1%}: a too large training ε or too few epochs cost clean accuracy")
    fb.ok("robust", robust >= ROBUST_TARGET, f"accuracy under PGD at ε = 0.1: {robust:.1%} ≥ 60 %",
          f"accuracy under PGD at ε = 0.1 is {robust:.1%}; train adversarially at ε = 0.1 for a few more epochs")
    failed = [c.name for c in curve.checks if not c.passed]
    fb.ok("sanity", bool(curve.checks) and not failed, "every sanity check against gradient masking passed",
          f"failed sanity checks: {', '.join(failed)} — robustness that only hides the gradients does not count"
          if failed else "measure the curve with its sanity checks on (checks=True, methods fgsm, pgd and noise)")


SEARCH = {
    "study": "you passed a study",
    "same_settings": "the data and epochs are the starter's",
    "log_lr": "train.lr is searched on a log scale",
    "two_fields": "at least two fields are searched",
    "pruner": "a pruner stops poor trials early",
    "trials": "at least 8 trials finished",
    "best_run": "you trained the best recipe",
    "best_values": "the run used the best trial's values",
    "accuracy": "test accuracy ≥ 85 %",
}


def grade_search(fb: Feedback, study: Any = None, run: Any = None) -> None:
    """Search the learning rate and one more field with Optuna, then train the best recipe."""
    if not fb.ok("study", all(hasattr(study, a) for a in ("trials", "best_recipe", "recipe")), "you passed a study",
                 "run study = lnb.tune(recipe, out=...) and pass it: check('search', study=study, run=run)"):
        return
    r = study.recipe
    space = r.search.space
    fb.ok("same_settings", all(r.get(k) == v for k, v in SEARCH_SETTINGS.items()),
          "the data and epochs are the starter's",
          "keep the starter's data.limit, data.seed, train.epochs and train.batch_size: the search should find "
          "better hyperparameters, not more data or epochs")
    lr = next(iter(space.get("train.lr", {"": None})))
    fb.ok("log_lr", lr == "log_uniform", "train.lr is searched on a log scale",
          "search train.lr with {'log_uniform': [1e-4, 1e-1]}: learning rates span orders of magnitude, so a "
          "uniform range would almost never try the small ones")
    fb.ok("two_fields", len(space) >= 2, f"{len(space)} fields are searched", "search at least one more field, e.g. "
          "model.width with {'choice': [8, 16, 32]} or train.weight_decay with {'uniform': [0, 0.1]}")
    fb.ok("pruner", r.search.pruner != "none", f"the {r.search.pruner} pruner stops poor trials early",
          "keep a pruner (search.pruner 'median'): poor trials stop after an epoch and leave time for others")
    finished = int(study.trials.state.isin(["complete", "pruned"]).sum())
    fb.ok("trials", finished >= 8, f"{finished} trials finished", f"only {finished} trials finished: run at least 8 "
          "(search.trials or lnb.tune(..., trials=8); resume=True continues the same study)")
    best = study.best_recipe
    if not fb.ok("best_run", best is not None and is_run(run), "you trained the best recipe",
                 "train the study's best recipe and pass the run: run = lnb.train(study.best_recipe)"):
        return
    fb.ok("best_values", all(run.recipe.get(k) == v for k, v in study.best_params.items()),
          "the run used the best trial's values",
          "train study.best_recipe itself: the run's values differ from the best trial's")
    acc = accuracy_of(run)
    fb.ok("accuracy", acc >= 0.85, f"test accuracy {acc:.1%} ≥ 85 %", f"test accuracy is {acc:.1%}; widen the "
          "learning-rate range (1e-4 to 1e-1) and run more trials")


TRANSFORMERS = {
    "run": "you passed a finished, evaluated run",
    "arch": "it is a text_transformer",
    "pretrained": "it starts from the pretrained encoder",
    "lora": "it has LoRA adapters",
    "few_trained": "at most 10 % of the parameters train",
    "accuracy": "test accuracy ≥ 70 %",
    "attention": "you computed an attention view",
    "top_token": "you found the token that flows most into the sentence vector",
}


def grade_transformers(fb: Feedback, run: Any = None, view: Any = None, top_token: Any = "") -> None:
    """LoRA on a pretrained encoder (≤ 10 % of the parameters train, ≥ 70 % accuracy) and the token with the
    largest attention-rollout share."""
    if not fb.ok("run", is_run(run) and getattr(run, "evaluation", None) is not None
                 and getattr(run, "model", None) is not None, "you passed a finished, evaluated run",
                 "train it: run = lnb.train(lora_recipe, progress=False, out=workdir.name), then pass run=run"):
        return
    m = run.recipe.model
    fb.ok("arch", m.arch == "text_transformer", "it is a text_transformer", "keep model.arch text_transformer")
    loaded = (getattr(run, "extras", {}).get("init") or {}).get("loaded", [])
    fb.ok("pretrained", bool(m.init_from) and "features" in loaded, "it starts from the pretrained encoder",
          "set model.init_from to str(pre.dir): the pretrained run folder")
    fb.ok("lora", m.adapter.kind == "lora", f"it has LoRA adapters (r={m.adapter.r})",
          'set model.adapter to {"kind": "lora", "r": 4, "alpha": 8, "targets": ["q", "v"]}')
    trainable = sum(p.numel() for p in run.model.parameters() if p.requires_grad)
    share = trainable / max(1, sum(p.numel() for p in run.model.parameters()))
    fb.ok("few_trained", share <= 0.10, f"{100 * share:.1f} % of the parameters trained (≤ 10 %)",
          f"{100 * share:.1f} % of the parameters trained: freeze the rest (model.freeze 'features') and keep r small")
    acc = accuracy_of(run)
    fb.ok("accuracy", acc >= 0.70, f"test accuracy {100 * acc:.1f} % (≥ 70 %)",
          f"test accuracy {100 * acc:.1f} %: adapters learn slowly at small rates; try train.lr 1e-2 or more epochs")
    if not fb.ok("attention", hasattr(view, "rollout") and hasattr(view, "tokens"), "you computed an attention view",
                 'view = lnb.explain_attention(run, ["a sentence"])[0]'):
        return
    tokens, shares = list(view.tokens), np.asarray(view.rollout)
    start = 1 if tokens and tokens[0] == "[CLS]" else 0
    best = tokens[start + int(np.argmax(shares[start:]))] if len(tokens) > start else ""
    fb.ok("top_token", top_token == best, f"'{best}' flows most into the sentence vector",
          "top_token: the token of view.tokens (after [CLS]) whose view.rollout share is largest")
