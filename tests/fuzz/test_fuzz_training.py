"""Valid recipes at the edges of their ranges, trained for real on tiny data: each one completes (or diverges,
stops early) or raises the package's error naming a field — never another exception.

Training costs seconds per example, so this target runs a fraction of the profile's examples."""

import tempfile

from hypothesis import given
from hypothesis import strategies as st

import lepton_nb as lnb
from lepton_nb.errors import RecipeError
from lepton_nb.recipe import AUGMENT_OPS, default_op
from tests.fuzz.helpers import assert_clear, fuzz, record

BASES = {"digits": {"data.limit": 120, "model.width": 4, "model.hidden": 8},
         "wine": {"model.hidden": 8}, "breast_cancer": {"model.hidden": 8, "data.limit": 150}}
EDGES = {
    "train.batch_size": [1, 2, 3, 7, 65536], "train.lr": [1e-7, 10.0, 3e-3], "train.epochs": [1, 2],
    "train.optimizer": ["sgd", "momentum", "nesterov", "adam", "adamw"], "train.momentum": [0.0, 0.999],
    "train.weight_decay": [0.0, 1.0], "train.label_smoothing": [0.0, 0.5], "train.grad_clip": [0.0, 1e-6, 1e6],
    "train.grad_accumulation": [1, 3, 1000], "train.mixed_precision": ["off", "bf16", "auto"],
    "train.scheduler": ["one_cycle", "none", "step", "cosine", "warmup_cosine", "plateau"],
    "train.warmup_epochs": [0.0, 1000.0], "train.step_size": [1, 100_000], "train.gamma": [1e-4, 1.0],
    "train.early_stopping.enabled": [True, False], "train.early_stopping.patience": [1, 1000],
    "train.early_stopping.monitor": ["val_loss", "val_accuracy", "train_loss"], "train.checkpoint": [True, False],
    "train.adversarial.method": ["none", "pgd", "fgsm_rs"], "train.adversarial.steps": [1, 2],
    "train.adversarial.eps": [0.0, 1.0], "model.depth": [1, 3], "model.dropout": [0.0, 0.9],
    "model.batch_norm": [True, False], "model.hidden": [1, 8], "data.val_fraction": [0.0, 0.5],
    "data.test_fraction": [0.0, 0.05, 0.3], "data.seed": [0, 2**31 - 1], "data.clean.dedupe": [True, False],
    "data.clean.outliers": ["none", "zscore"], "data.clean.outlier_z": [1.0, 100.0],
    "normalize.method": ["none", "standardize", "minmax"], "evaluate.top_losses": [0, 1000],
    "evaluate.metrics": [["accuracy"], ["roc_auc", "f1_macro"], []], "interpret.enabled": [True, False],
    "interpret.probes": [1, 64], "interpret.every_n_epochs": [0, 1], "interpret.steps": [4],
}


@st.composite
def edge_recipes(draw):
    source = draw(st.sampled_from(sorted(BASES)))
    preset = {"digits": "digits", "wine": "wine", "breast_cancer": "breast_cancer"}[source]
    changes = dict(BASES[source])
    for key in draw(st.lists(st.sampled_from(sorted(EDGES)), min_size=1, max_size=8, unique=True)):
        changes[key] = draw(st.sampled_from(EDGES[key]))
    if source == "digits" and draw(st.booleans()):
        changes["augment.ops"] = [default_op(op) for op in draw(st.lists(st.sampled_from(
            sorted(k for k, s in AUGMENT_OPS.items() if "image" in s.kinds)), max_size=3))]
    changes.setdefault("train.epochs", 1)
    try:
        return lnb.Recipe.preset(preset).updated(changes)
    except RecipeError as exc:  # refused at validation: a clear outcome too, recorded as such
        return exc


@fuzz(scale=0.03, at_most=80)
@given(edge_recipes())
def test_valid_recipes_at_the_edges_train_or_say_why(recipe):
    target = "valid recipes at the edges, trained"
    if isinstance(recipe, RecipeError):
        assert_clear(recipe, target)
        return
    with tempfile.TemporaryDirectory() as d:
        try:
            run = lnb.train(recipe, out=d if recipe.train.checkpoint else None, progress=False, report=False)
        except Exception as exc:
            assert_clear(exc, target)
            return
    assert run.status in ("completed", "diverged", "early_stopped"), (run.status, run.message)
    if run.status == "diverged":
        assert "train.lr" in run.message or "grad_clip" in run.message
    record(target, "success")
