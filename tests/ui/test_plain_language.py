"""Metrics read as words with their meaning on hover; machine keys stay in exports; statuses say it once."""

import re

from lepton_nb.recipe.labels import METRIC_TEXT, metric_help, metric_label
from lepton_nb.ui.render import snapshot_html, table_html
from tests.conftest import HANG_S
from tests.ui.conftest import settle


def test_every_metric_of_the_recipe_vocabulary_has_words_and_a_meaning():
    from lepton_nb.recipe import METRICS, MONITORS

    for key in (*METRICS, *MONITORS, "loss"):
        assert metric_label(key) != key or " " not in key, key
        assert "_" not in metric_label(key), key
        assert len(metric_help(key)) > 20, key
    assert metric_label("val_balanced_accuracy") == "validation balanced accuracy"
    assert metric_label("samples_per_s") == "samples_per_s" and metric_help("samples_per_s") == ""
    assert set(METRIC_TEXT) >= {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc"}


def test_tables_show_labels_with_hover_explanations():
    html = table_html([{"run": "a", "balanced_accuracy": 0.5, "f1_macro": 0.25}], left=("run",))
    assert ">balanced accuracy</th>" in html and ">F1 (class mean)</th>" in html
    assert "balanced_accuracy" not in html and "title='mean of the per-class recalls" in html


def test_studio_shows_readable_metrics_times_and_statuses(studio):
    studio.update({"evaluate.metrics": ["accuracy", "balanced_accuracy", "f1_macro"]})
    assert studio.start() and studio.wait(HANG_S)
    run = studio.run
    studio.show_tab("Evaluation")
    evaluation = studio.evaluate_panel.metrics.value
    assert "balanced accuracy" in evaluation and "F1 (class mean)" in evaluation
    assert not re.search(r">(balanced_accuracy|f1_macro)<", evaluation)
    assert "title='harmonic mean of precision and recall" in evaluation
    assert "balanced accuracy" in snapshot_html(run) and ">balanced_accuracy<" not in snapshot_html(run)
    studio.show_tab("Runs")
    runs = studio.runs_panel.table.value
    assert re.search(r">\d+\.\d s<", runs) and "seconds" not in runs
    assert studio.train_panel.error.value.count("completed") == 1
    assert "balanced_accuracy" in run.recipe.to_json()  # machine keys stay in what is exported
    report = (run.dir / "report.html").read_text()
    assert "balanced accuracy" in report and "mean of the per-class recalls" in report


def test_cross_validation_table_uses_the_labels(studio):
    studio.update({"evaluate.cv_folds": 2, "evaluate.metrics": ["accuracy", "balanced_accuracy"]})
    assert studio.cross_validate(timeout=HANG_S) is not None
    settle(studio.evaluate_panel.cv_task)
    assert "balanced accuracy" in studio.evaluate_panel.cv_result_html.value
