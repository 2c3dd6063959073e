"""The interactive figures are valid plotly figures, and a page carries plotly.js once, offline and inflatable."""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lepton_nb.plotting import interactive as ix
from lepton_nb.plotting.page import PLOTLY_ASSET, chart, document, plotly_base64, values_table
from lepton_nb.training.history import History

REPO = Path(__file__).resolve().parents[2]


def history() -> History:
    h = History()
    for step in range(1, 41):
        h.log_many(step, {"batch_loss": 2.0 / step, "lr": 0.01 * min(1, step / 10)})
    for epoch, step in enumerate((20, 40)):
        h.log_many(step, {"val_loss": 0.5 - 0.1 * epoch, "val_accuracy": 0.8 + 0.1 * epoch,
                          "train_accuracy": 0.7 + 0.2 * epoch})
    h.log_many(30, {"val_loss": float("nan")})  # a gap, not a crash
    return h


def figures() -> dict[str, dict]:
    h = history()
    changes = [{"step": 25, "epoch": 1, "field": "train.lr", "old": 0.01, "new": 0.001}]
    curve = SimpleNamespace(run="r", eps=[0.0, 0.1], accuracy={"pgd": [0.9, 0.5], "fgsm": [0.9, 0.6]},
                            unit_name="pixels in [0, 1]")
    trials = pd.DataFrame({"trial": [0, 1, 2], "state": ["complete", "pruned", "complete"],
                           "value": [0.8, np.nan, 0.9], "last": [0.8, 0.5, 0.9]})
    return {
        "loss": ix.loss_figure(h, changes), "metric": ix.metric_figure(h, "accuracy", "accuracy", changes),
        "lr": ix.lr_figure(h), "confusion": ix.confusion_figure(np.array([[5, 1], [0, 4]]), ["0", "1"]),
        "per_class": ix.per_class_figure([{"class": "a", "precision": 1.0, "recall": 0.5, "f1": 0.67, "support": 4}]),
        "robustness": ix.robustness_figure([curve]),
        "overlay": ix.overlay_figure([("ann", [1, 2], [0.5, 0.7]), ("bob", [1, 2], [0.4, None])], "t", "epoch", "acc",
                                     percent=True, highlight=[False, True]),
        "bars": ix.bars_figure(["ann", "bob"], [0.9, 0.1], "leaderboard", "accuracy", colors=["#000", "#f00"],
                               hover=["lr=0.1", ""], percent=True),
        "study": ix.study_history_figure(trials, "accuracy", "maximize", [0.8, 0.9]),
    }


@pytest.mark.parametrize("name", list(figures()))
def test_every_figure_is_a_valid_plotly_figure(name):
    go = pytest.importorskip("plotly.graph_objects")
    fig = figures()[name]
    go.Figure(fig)  # raises on a misspelled or invalid property
    json.dumps(fig, allow_nan=False)  # plain JSON: NaN became null
    assert fig["data"], "a figure with something to draw"


def test_values_are_rounded_and_gaps_are_null():
    assert ix.rounded([1.23456789, float("nan"), None, "x", np.float32(2.5)]) == [1.235, None, None, None, 2.5]
    loss = ix.loss_figure(history())
    val = next(t for t in loss["data"] if t["name"] == "val")
    assert None in val["y"]
    confusion = ix.confusion_figure(np.array([[5, 1], [0, 4]]), ["0", "1"])["data"][0]
    assert confusion["customdata"][0] == [0.833, 0.167] and "samples" in confusion["hovertemplate"]


def test_the_bundle_is_the_pinned_cartesian_plotly():
    raw = gzip.decompress(base64.b64decode(plotly_base64())).decode("utf-8")
    pinned = json.loads((REPO / "frontend/plotly/package.json").read_text())["dependencies"]
    version = pinned["plotly.js-cartesian-dist-min"]
    assert f"plotly.js (cartesian - minified) v{version}" in raw[:200]
    assert (REPO / "widgets" / PLOTLY_ASSET).stat().st_size < 600_000


def test_a_page_carries_plotly_once_and_only_with_charts():
    fig = figures()["loss"]
    text = "loss from 2 to 0.05"
    body = chart(fig, text, values_table(["a"], [[1.0]])) + chart(figures()["lr"], "lr")
    page = document("t", body)
    assert page.count("id='lnb-plotly'") == 1 and page.count("DecompressionStream") == 1
    assert f"aria-label='{text}'" in page and "<details class='lnb-values'>" in page
    assert not re.search(r"(src|href)=[\"']?https?://", page)
    assert "lnb-plotly" not in document("t", "<p>no charts</p>")


def test_a_figure_cannot_end_its_script_element():
    evil = "</script><!--<script>alert(1)</script>"
    page = document("t", chart(ix.bars_figure([evil], [1.0], "t", "y"), "x"))
    assert "alert" in page and "<script>alert" not in page and "<!--" not in page
    assert page.count("</script>") == page.count("<script") == 3  # the figure, plotly.js and the loader
