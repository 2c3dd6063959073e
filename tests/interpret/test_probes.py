import numpy as np
import torch
from torch import nn

import lepton_nb as lnb
from lepton_nb.interpret.probes import probe_indices
from tests.conftest import tiny_recipe


def test_probe_set_is_stratified():
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 0])
    assert probe_indices(labels, 3) == [0, 2, 5]
    assert probe_indices(labels, 5) == [0, 1, 2, 3, 5]


def test_probes_do_not_change_the_training_result():
    base = tiny_recipe(train__epochs=3, model__dropout=0.3)
    with_probes = lnb.train(base.updated({"interpret.enabled": True, "interpret.every_n_epochs": 1}),
                            progress=False, out=None, report=False)
    without = lnb.train(base.updated({"interpret.enabled": False}), progress=False, out=None, report=False)
    a, b = with_probes.model.state_dict(), without.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert len(with_probes.history.artifacts["attributions"]) == 3
    assert "attributions" not in without.history.artifacts


def test_frames_record_epoch_predictions_and_are_saved(tmp_path):
    run = lnb.train(tiny_recipe(train__epochs=4).updated({"interpret.every_n_epochs": 2, "interpret.probes": 5}),
                    progress=False, out=tmp_path)
    frames = run.history.artifacts["attributions"]
    assert [f["epoch"] for f in frames] == [1, 3]
    assert frames[0]["attributions"].shape == (5, 1, 8, 8) and frames[0]["attributions"].dtype == np.float16
    assert len(frames[-1]["predictions"]) == 5 and all(0 < c <= 1 for c in frames[-1]["confidence"])
    saved = np.load(run.dir / "attributions.npz")
    assert saved["attributions"].shape == (2, 5, 1, 8, 8) and saved["epochs"].tolist() == [1, 3]
    meta = run.history.meta["probes"]
    assert meta["split"] == "val" and len(meta["indices"]) == 5 and sorted(set(meta["labels"])) == meta["labels"]
    html = (run.dir / "report.html").read_text()
    assert "<h2>Attributions</h2>" in html and "Timeline" in html


def test_budgeted_probes_give_a_timeline_from_the_first_to_the_last_epoch():
    # structure only: how many seconds the probes take is a benchmark (benchmarks/bench_probes.py), not a test
    run = lnb.train(tiny_recipe(train__epochs=4).updated({"interpret.every_n_epochs": 0, "interpret.budget": 1.0}),
                    progress=False, out=None, report=False)
    epochs = [f["epoch"] for f in run.history.artifacts["attributions"]]
    assert epochs[0] == 0 and epochs[-1] == 3 and len(epochs) >= 2
    assert all(a < b for a, b in zip(epochs, epochs[1:]))
    meta = run.history.meta
    assert meta["probe_seconds"] > 0 and meta["probe_warmup_seconds"] > 0 and "probe_note" not in meta


def test_a_budget_too_small_for_two_probes_explains_the_last_epoch_and_says_why():
    run = lnb.train(tiny_recipe(train__epochs=3).updated({"interpret.every_n_epochs": 0, "interpret.budget": 0.001}),
                    progress=False, out=None, report=False)
    assert [f["epoch"] for f in run.history.artifacts["attributions"]] == [2]
    assert "last epoch only" in run.history.meta["probe_note"]


class NoConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(64, 10)

    def forward(self, x):
        return self.lin(x.flatten(1))


def test_probe_failure_is_recorded_and_training_goes_on(tmp_path):
    recipe = tiny_recipe(train__epochs=2).updated({"interpret.method": "grad_cam"})
    torch.manual_seed(0)  # a model of your own starts from the global generator: the same whatever ran before
    run = lnb.train(recipe, model=NoConv(), progress=False, out=tmp_path)
    assert run.status == "completed" and run.metrics["accuracy"] > 0.2
    error = run.history.meta["interpret_error"]
    assert "no Conv2d layer" in error and "integrated_gradients" in error
    assert "Attribution probes stopped" in (run.dir / "report.html").read_text()


def test_text_and_tabular_probes(imdb_path):
    text = lnb.train(lnb.Recipe.preset("sentiment").updated({"data.path": str(imdb_path), "train.epochs": 2,
                                                             "interpret.every_n_epochs": 1}),
                     progress=False, out=None)
    assert text.history.artifacts["attributions"][0]["attributions"].shape == (8, 48)
    assert "attention" not in text.history.artifacts["attributions"][0]  # a bag of words has no attention
    table = lnb.train(lnb.Recipe.preset("wine").updated({"train.epochs": 2, "interpret.every_n_epochs": 1}),
                      progress=False, out=None)
    assert table.history.artifacts["attributions"][0]["attributions"].shape == (8, 13)


def test_transformer_frames_carry_attention_rollout_saved_and_streamed(tmp_path):
    from lepton_nb.interpret.probes import load_timeline
    from lepton_nb.ui.views.timeline import encode_frame
    from tests.conftest import write_sentiment
    from tests.workflows.test_transformers import text_recipe

    recipe = text_recipe(write_sentiment(tmp_path / "r.tsv"), **{"model.pooling": "cls", "interpret.enabled": True,
                                                                 "interpret.every_n_epochs": 1, "train.epochs": 2})
    run = lnb.train(recipe, progress=False, out=tmp_path / "runs", report=False)
    frames = run.history.artifacts["attributions"]
    assert len(frames) == 2
    meta = run.history.meta["probes"]
    ids = run.data.inputs(meta["split"])[torch.as_tensor(meta["indices"])]
    lengths = (ids != 0).sum(1)
    for frame in frames:
        att = frame["attention"].astype("float32")
        assert att.shape == tuple(ids.shape)
        assert all((att[i, n:] == 0).all() and (att[i, :n] > 0).all() for i, n in enumerate(lengths.tolist()))
        assert ((att.sum(1) > 0.05) & (att.sum(1) < 1.0)).all()  # [CLS]'s own share is left out
    assert not np.allclose(frames[0]["attention"], frames[1]["attention"])  # the maps follow training
    saved = load_timeline(run.dir / "attributions.npz")
    assert np.array_equal(saved[1]["attention"], frames[1]["attention"])
    sent = encode_frame(frames[1], "text", lengths.tolist())
    assert [len(a) for a in sent["attention"]] == lengths.tolist()
    assert abs(sent["attention"][0][0] - float(frames[1]["attention"][0, 0])) < 1e-3
