"""What each tutorial's prose claims, as code run in the notebook's kernel after its last cell (on the very run the
student makes). A claim that fails names the prose and what the run showed instead.

Each entry is the source of one cell; it may use every variable the notebook defined. Keep a claim next to the
words it checks: when the prose changes, its claim changes with it.
"""

from __future__ import annotations

HELPER = '''
import numpy as _np
import torch as _torch


def claim(ok, prose, shown):
    assert ok, f"the prose says: {prose!r}; the run shows: {shown}"
'''

CLAIMS: dict[str, str] = {
    "01_quickstart": '''
import os as _os
claim(studio.session.state == "completed", "press Start: a live training run", studio.session.state)
_process = getattr(studio.session.runner, "process", None)
claim(_process is not None and _process.pid not in (None, _os.getpid()),
      "training runs in a separate worker process", _process)
''',
    "02_normalization_and_augmentation": '''
from lepton_nb.plotting.figures import matching_bins as _bins
_before, _after = data.raw("train", slice(None)).numpy(), data.inputs("train").numpy()
_eb, _ea = _bins(_before, _after)
claim(len(_np.unique(_before)) == 17, "each bar is one of the 17 grey levels the digits have",
      len(_np.unique(_before)))
claim((_np.histogram(_before, _eb)[0] == _np.histogram(_after, _ea)[0]).all(),
      "the shape of the distribution stays the same", "different counts in matching bins")
claim(abs(_after.mean()) < 0.005 and abs(_after.std() - 1) < 0.005, "mean 0, standard deviation 1",
      (_after.mean(), _after.std()))
_gain = augmented.metrics["accuracy"] - plain.metrics["accuracy"]
claim(abs(_gain) * len(plain.data.test) <= 3, "the two runs land within a few test digits of each other",
      (plain.metrics["accuracy"], augmented.metrics["accuracy"]))
''',
    "03_hyperparameters_and_lr_finder": '''
claim(final_val_loss["none"] > max(final_val_loss["cosine"], final_val_loss["one_cycle"]),
      "a constant rate's validation loss stays higher; the annealed schedules settle lower", final_val_loss)
_spread = (max(accuracy.values()) - min(accuracy.values())) * n
claim(_spread <= 10, "the three test accuracies are a few digits apart", accuracy)
claim(studio.run.history.meta.get("changes") and applied == {"train.lr": round(lr / 5, 5)},
      "the change applies from the next batch and the run records it", studio.run.history.meta.get("changes"))
''',
    "04_evaluation_and_cross_validation": '''
_wrong = ev.y_true[top] != ev.y_pred[top]
claim(list(_wrong) == sorted(_wrong, reverse=True), "the mistakes first (red), then the right answers (green)",
      list(_wrong))
claim(int(_wrong.sum()) == min(len(top), len(ev.misclassified())),
      "the mistakes first, then, when there are fewer mistakes than pictures, right answers",
      (int(_wrong.sum()), len(ev.misclassified())))
''',
    "05_interpretability": '''
claim(run.model.training is False, "the run hands back its model in eval mode", run.model.training)
claim(float((sums - gap).abs().max()) < 0.05, "its attributions add up to f(input) - f(baseline)",
      (sums.numpy().round(3), gap.numpy().round(3)))
_truth = run.data.labels(probes["split"])[_torch.as_tensor(probes["indices"][:4])].numpy()
_first, _last = frames[0], frames[-1]
_strength = lambda f: float(_np.abs(_np.asarray(f["attributions"][:4])).mean())
claim(_np.mean(_first["confidence"][:4]) < 0.5 and (_np.asarray(_first["predictions"][:4]) != _truth).any(),
      "after the first epoch the model is unsure (low probabilities, some wrong answers)",
      (_first["confidence"][:4], _first["predictions"][:4], _truth))
claim(min(_last["confidence"][:4]) > 0.95 and (_np.asarray(_last["predictions"][:4]) == _truth).all(),
      "the probabilities climb towards 100 %", (_last["confidence"][:4], _last["predictions"][:4]))
claim(_strength(_last) > 3 * _strength(_first), "the evidence grows several times stronger",
      (_strength(_first), _strength(_last)))
''',
    "06_text_sentiment": '''
claim(run.data.classes == ["negative", "positive"], "labelled negative or positive", run.data.classes)
claim(run.recipe.model.arch == "text_bow" and run.recipe.model.buckets == 0 and run.model.features.bigrams is None,
      "it averages the vectors of a sentence's words; the preset leaves word pairs out", run.recipe.model)
claim(sum(run.data.sizes().values()) == 258, "two duplicates dropped, 258 sentences split", run.data.sizes())
_cleaning = run.data.cleaning.to_dict()
claim(_cleaning["before"] == 260 and [s["removed"] for s in _cleaning["steps"] if s["name"] == "duplicates"] == [2],
      "two of the 260 lines are exact duplicates, which cleaning drops", _cleaning)
claim(run.metrics["accuracy"] > majority["support"] / n + 0.1, "the model beats always answering one class",
      (run.metrics["accuracy"], majority))
_marks = [row.startswith("<p>✓") for row in rows]
claim(_marks == list((e.predictions == truth).numpy()), "✓ marks a right prediction, ✗ a mistake", _marks)
_wrong = [k for k, ok in enumerate(_marks) if not ok]
_words = run.data.vocab.decode(ids[_wrong[0]]) if _wrong else []
_value = dict(zip(_words, e.attributions[_wrong[0]].tolist())) if _wrong else {}
claim(len(_wrong) == 1 and _words[:3] == ["the", "worst", "purchase"] and float(e.confidence[_wrong[0]]) > 0.9,
      "the ✗ is a confident mistake: the worst purchase I made this year", rows)
_train = run.data.train
_twin = [int(y) for t, y in zip(_train.texts, _train.y) if t == "The best purchase I made this year."]
claim([run.data.classes[y] for y in _twin] == ["positive"], "its near twin is a positive training sentence", _twin)
claim(_value["worst"] < 0 and all(_value[w] > 0 for w in ("purchase", "made", "year")),
      "purchase, made and year count as positive; worst (blue) pulls towards negative", _value)
''',
    "07_tabular": '''
_share = train_counts[run.data.classes.index("yes")] / sum(train_counts)
claim(0.25 <= _share <= 0.35, "defaults are rarer than repayments (about 3 in 10 rows)", train_counts)
claim(baseline < run.metrics["accuracy"] <= baseline + 0.1,
      "answering no to everyone already scores the baseline, and the model's accuracy is only a little higher",
      (baseline, run.metrics["accuracy"]))
claim(run.metrics["balanced_accuracy"] >= 0.55 and run.metrics["roc_auc"] >= 0.65,
      "on balanced accuracy (0.5) and ROC AUC (0.5) the model clearly beats the constant answer", run.metrics)
claim(bool((e.target == e.predictions).all()), "the bars are towards (red) or against (blue) the predicted class",
      (e.target[:5], e.predictions[:5]))
''',
    "08_from_notebook_to_script": '''
claim(done.returncode == 0 and bad.returncode == 2, "an invalid recipe stops with exit code 2",
      (done.returncode, bad.returncode))
claim("train.lr: -1" in bad.stderr and "model.arch" in bad.stderr, "lists every problem as field: value — allowed",
      bad.stderr)
_files = {p.name for p in run_dir.iterdir()} | {p.name for p in (run_dir / "checkpoints").iterdir()}
claim({"recipe.json", "data.json", "history.json", "metrics.json", "best.pt", "last.pt", "attributions.npz",
       "report.html"} <= _files, "the run folder holds recipe, data summary, history, metrics, checkpoints, "
       "the attribution timeline and report.html", sorted(_files))
claim(len(lines) > 12, "its top (the file goes on)", len(lines))
''',
    "09_transformers_and_transfer": '''
claim(sum(data.sizes().values()) == 258, "cleaning drops 2 exact duplicates: 258 sentences", data.sizes())
_pieces = data.vocab.decode(data.vocab.encode(["unwatchably"], 8)[0])
claim(len(_pieces) > 1 and "<unk>" not in _pieces, "a word never seen in training still gets pieces, not one <unk>",
      _pieces)
claim(trainable / total <= 0.1, "LoRA adapters train a few percent of the weights", (trainable, total))
_training = [_n for _n, _p in lora.model.named_parameters() if _p.requires_grad]
claim(lora.recipe.model.freeze == "features" and all(".lora_" in _n or _n.startswith("head.") for _n in _training),
      "an adapter freezes the base by default: only the adapters and the new head train",
      (lora.recipe.model.freeze, _training))
claim(not any("lora" in _n for _n, _ in loaded.model.named_parameters()),
      "loading the run merges B·A into W: a plain transformer", [_n for _n, _ in loaded.model.named_parameters()][:8])
_acc = [scratch.metrics["accuracy"], fine.metrics["accuracy"], lora.metrics["accuracy"]]
claim(len(data.test) == 52 and max(_acc) - min(_acc) <= 4 / 52,
      "expect the three to be close: on 52 test sentences they differ by a few sentences", _acc)
claim(all(0.7 <= _a <= 0.85 for _a in _acc), "accuracy around 75-80 %", _acc)
''',
    "10_robustness": '''
_change = float(result.perturbation.abs().max())
claim(_change <= 0.1 + 1e-6 and 0 <= float(result.adversarial.min()) and float(result.adversarial.max()) <= 1,
      "ε is in pixel units, and the image is clamped to valid pixels", _change)
claim(slow > fast, "adversarial training costs more time per epoch", (fast, slow))
claim(not curve_standard.warnings, "the standard model's curve passes every check", curve_standard.warnings)
claim(not curve_robust.warnings, "it passes the same sanity checks", [c.name for c in curve_robust.warnings])
_std, _rob = curve_standard.accuracy["pgd"], curve_robust.accuracy["pgd"]
_drop = standard.metrics["accuracy"] - robust.metrics["accuracy"]
claim(0 < _drop <= 0.08, "gives up a few points of clean accuracy", _drop)
_at = {e: i for i, e in enumerate(curve_robust.eps)}
claim(all(_rob[_at[e]] <= _std[_at[e]] + 0.02 for e in (0.02, 0.05)),
      "at small ε (0.02, 0.05) it is no better than the standard model", (_std, _rob))
_gaps = [_rob[_at[e]] - _std[_at[e]] for e in (0.1, 0.15, 0.2)]
claim(min(_gaps) >= 0.1, "from ε = 0.1, the budget it trained with, it keeps clearly more", _gaps)
claim(masked.accuracy["pgd"][masked.eps.index(0.1)] > 0.8, "its PGD accuracy looks excellent", masked.accuracy)
claim({c.name for c in masked.warnings} >= {"random noise is not stronger than PGD",
      "an ε covering the whole input range drives accuracy to chance or below"},
      "the checks are not fooled: noise beats PGD, an unlimited ε does not bring accuracy to chance",
      [c.name for c in masked.warnings])
''',
    "11_hyperparameter_search": '''
_trials = trials
_start = recipe.search.startup_trials
claim((_trials[_trials.trial < _start].state == "complete").all(),
      "the pruner stops nothing among the first search.startup_trials trials", _trials[["trial", "state"]])
_pruned = _trials[_trials.state == "pruned"]
claim(len(_pruned) > 0 and (_pruned.epoch == 1).all() and (_pruned.trial >= _start).all(),
      "a poor setting costs one epoch (every trial pruned after the start-up trials trained one epoch of two)",
      _trials[["trial", "state", "epoch"]])
claim(sum(counts.values()) == 10, "resume=True continues it and runs only the missing trials: two more", counts)
''',
}
CLAIMS = {name: HELPER + code for name, code in CLAIMS.items()}
