import gc
import subprocess
import sys
import time
import weakref
from pathlib import Path

import ipywidgets as W
import numpy as np
import pytest

import lepton_nb as lnb
from lepton_nb.ui.studio import TABS
from tests.conftest import HANG_S, tiny_recipe, wait_for
from tests.ui.conftest import settle


def test_one_displayed_object_with_every_section(studio):
    assert [studio.tabs.get_title(i) for i in range(len(TABS))] == list(TABS)
    assert studio.monitor in studio.widget.children
    settle(studio.augment_panel.task, studio.model_panel.task, studio.data_panel.norm_task)
    assert "parameters" in studio.model_panel.info.value and "Conv2d" in studio.model_panel.info.value
    assert studio.data_panel.samples.value[:4] == b"\x89PNG" and studio.data_panel.hist.value[:4] == b"\x89PNG"
    assert "mean" in studio.data_panel.stats.value and "train 420, val 60, test 120" in studio.data_panel.summary.value


def test_long_button_labels_are_not_cut_off(studio):
    """ipywidgets gives every button 148 px; labels longer than that must size the button instead."""
    def buttons(widget):
        if isinstance(widget, W.Button):
            yield widget
        for child in getattr(widget, "children", ()):
            yield from buttons(child)

    long_labels = [b for b in buttons(studio.widget) if len(b.description) > 14]
    assert {"Average per class", "Recompute statistics", "Load recipe into panels"} <= {
        b.description for b in long_labels}
    assert all(b.layout.width == "auto" for b in long_labels), [
        b.description for b in long_labels if b.layout.width != "auto"]


def test_start_returns_at_once_and_runs_in_the_background(studio):
    assert studio.start()
    assert studio.session.busy and studio.session.state != "completed"  # returned while the run goes on
    assert not studio.start() and "already" in studio.monitor.message
    assert studio.wait(HANG_S) and studio.session.state == "completed"
    run = studio.run
    assert run.metrics["accuracy"] > 0.3
    assert studio.monitor.state == "completed" and studio.monitor.progress["fraction"] == 1.0
    assert studio.monitor._sent["batch_loss"] == run.history.length("batch_loss")  # every point reached the view
    assert "lnb-snapshot" in studio.snapshots.html and "data:image/png;base64" in studio.snapshots.html


def test_buttons_drive_the_session(studio):
    studio.update({"train.epochs": 200, "data.limit": 0})
    studio.wait_data(HANG_S)
    studio.monitor._handle_custom_msg({"type": "command", "name": "start"}, [])
    assert wait_for(lambda: studio.session.history.length("batch_loss") > 3)
    studio.monitor._handle_custom_msg({"type": "command", "name": "pause"}, [])
    assert wait_for(lambda: studio.session.state == "paused")
    n = studio.session.history.length("batch_loss")
    time.sleep(0.2)
    assert studio.session.history.length("batch_loss") == n
    studio.monitor._handle_custom_msg({"type": "command", "name": "resume"}, [])
    assert wait_for(lambda: studio.session.history.length("batch_loss") > n)
    studio.monitor._handle_custom_msg({"type": "command", "name": "stop"}, [])
    assert studio.wait(HANG_S) and studio.session.state == "stopped"
    assert studio.run.history.length("batch_loss") >= n  # pause/resume kept the history


def test_invalid_input_disables_start(studio):
    studio.form.controls()["train.batch_size"].widget.value = 0
    assert not studio.monitor.can_start and "train.batch_size" in studio.monitor.start_hint
    assert not studio.start() and "train.batch_size" in studio.monitor.message
    assert studio.session.state == "idle"
    studio.form.controls()["train.batch_size"].widget.value = 32
    assert studio.monitor.can_start


def test_training_thread_exception_is_shown_with_traceback(tmp_path, monkeypatch):
    import lepton_nb.workflows.plan as run_module  # where a run builds its model

    def broken(*a, **k):
        raise RuntimeError("CUDA out of memory (simulated)")

    studio = lnb.Studio(tiny_recipe(), out=tmp_path, hz=20, worker="thread")
    assert isinstance(studio.session, lnb.Session) and not isinstance(studio.session, lnb.WorkerSession)
    monkeypatch.setattr(run_module, "build_model", broken)
    assert studio.start()
    assert studio.wait(HANG_S)
    assert studio.session.state == "error" and studio.monitor.state == "error"
    text = studio.train_panel.error.value
    assert "CUDA out of memory (simulated)" in text and "Traceback" in text and "<details>" in text
    assert "failed: RuntimeError" not in text and 'title="technical name: RuntimeError"' in text  # on hover
    assert studio.run.status == "error"  # listed in Runs with what it logged
    monkeypatch.undo()
    assert studio.start() and studio.wait(HANG_S) and studio.session.state == "completed"  # kernel fine
    studio.close()


def test_evaluation_panel_and_confusion_cell_selection(studio):
    studio.start()
    studio.wait(HANG_S)
    ev = studio.evaluate_panel
    assert ev.confusion.matrix == []  # drawn when the tab is shown, not while another is
    studio.show_tab("Evaluation")
    assert "accuracy" in ev.metrics.value
    assert np.array_equal(np.array(ev.confusion.matrix), studio.run.evaluation.confusion)
    ev.confusion.selected = [3, 3]
    assert "class 3 correctly classified" in ev.cell_title.value and ev.cell_png.value[:4] == b"\x89PNG"
    wrong = studio.run.evaluation.misclassified()
    assert len(wrong) > 0  # two short epochs on 600 digits: some test digits are always wrong
    i = int(wrong[0])
    t, p = int(studio.run.evaluation.y_true[i]), int(studio.run.evaluation.y_pred[i])
    ev.confusion.selected = [t, p]
    assert f"predicted as {p}" in ev.cell_title.value
    assert ev.top_png.value[:4] == b"\x89PNG" and ev.per_class_png.value[:4] == b"\x89PNG"
    top = studio.run.evaluation.top_losses(studio.run.recipe.evaluate.top_losses)
    shown_wrong = int(np.sum(studio.run.evaluation.y_true[top] != studio.run.evaluation.y_pred[top]))
    assert f"losses: {shown_wrong} wrong</h4>" in ev.top_title.value  # the gallery says how many are mistakes


def test_cross_validation_runs_in_the_background(studio):
    studio.update({"evaluate.cv_folds": 2, "train.epochs": 1})
    result = studio.cross_validate(timeout=HANG_S)
    assert len(result.folds) == 2 and "± std" in studio.evaluate_panel.cv_result_html.value
    assert "recipe digits · cnn" in studio.evaluate_panel.cv_status.value  # it says which recipe it validated


def test_lr_finder_suggests_and_applies(studio):
    result = studio.find_lr(timeout=HANG_S)
    assert result is not None and result.suggestion and studio.train_panel.lr_plot.value[:4] == b"\x89PNG"
    assert studio.recipe.train.scheduler == "one_cycle"  # the finder's advice: a peak a few times higher
    assert studio.train_panel.apply_lr() == pytest.approx(float(f"{4 * result.suggestion:.3g}"))
    assert studio.recipe.train.lr == pytest.approx(float(f"{4 * result.suggestion:.3g}"))
    assert "one_cycle peak" in studio.train_panel.lr_status.value
    studio.update({"train.scheduler": "cosine"})
    assert studio.train_panel.apply_lr() == pytest.approx(float(f"{result.suggestion:.3g}"))


def test_augmentation_preview_is_seeded_and_follows_parameters(studio):
    panel = studio.augment_panel
    settle(panel.task)
    first = panel.preview.value
    panel.refresh()
    settle(panel.task)
    assert panel.preview.value == first  # same settings, same variants
    panel.add("rotation")
    settle(panel.task)
    assert panel.preview.value != first
    assert any(op["op"] == "rotation" for op in studio.recipe.augment.ops)
    rotated = panel.preview.value
    panel.resample.click()
    settle(panel.task)
    assert panel.preview.value != rotated


def test_augmentation_panel_keeps_the_recipes_order_and_repeats(studio):
    ops = [{"op": "rotation", "degrees": 5.0}, {"op": "affine", "degrees": 3.0, "translate": 0.05, "scale": 0.0,
                                                "shear": 0.0}, {"op": "rotation", "degrees": 20.0}]
    studio.update({"augment.ops": ops})
    assert studio.recipe.augment.ops == ops  # the panel round-trip changes nothing
    panel = studio.augment_panel
    assert [e.name for e in panel.entries] == ["rotation", "affine", "rotation"]
    panel.entries[2].up.click()  # the second rotation now runs before affine
    assert [op["op"] for op in studio.recipe.augment.ops] == ["rotation", "rotation", "affine"]
    assert [op.get("degrees") for op in studio.recipe.augment.ops] == [5.0, 20.0, 3.0]
    panel.entries[0].remove.click()
    assert studio.recipe.augment.ops == [ops[2], ops[1]]


def test_switching_source_adapts_model_and_augmentation(studio):
    studio.form.controls()["data.source"].widget.value = "wine"
    assert studio.recipe.model.arch == "tabular_mlp" and studio.recipe.augment.ops == []
    data = studio.wait_data(HANG_S)
    assert data.source == "wine" and data.kind == "tabular"
    assert "rotation" not in [v for _, v in studio.augment_panel.add_choice.options]
    assert "gaussian_noise" in [v for _, v in studio.augment_panel.add_choice.options]
    settle(studio.model_panel.task)
    assert "Linear" in studio.model_panel.info.value


def test_runs_table_overlay_export_and_load_back(studio):
    studio.start()
    studio.wait(HANG_S)
    studio.update({"train.lr": 0.01, "name": "second", "evaluate.cv_folds": 3})
    studio.start()
    studio.wait(HANG_S)
    runs = studio.runs_panel
    assert len(studio.runs) == 2 and runs.table.value.count("<tr>") == 3
    assert runs.select.value == (1,)  # the run just trained, not the older one
    studio.show_tab("Runs")
    runs.select.value = (0, 1)
    assert runs.overlay_png.value[:4] == b"\x89PNG"
    # what differs in training, not timestamps, nor cv_folds (it changes nothing a curve shows)
    assert runs.legend_labels(studio.runs) == ["lr=0.005", "lr=0.01"]
    runs.select.value = (0,)
    links = runs.export_selected()
    assert "download=" in links and "recipe (JSON)" in links and "HTML report" in links
    assert "lepton-nb run" in runs.command.value
    runs.load_selected()
    assert studio.recipe == studio.runs[0].recipe


def test_finished_models_are_freed_unless_kept(tmp_path):
    studio = lnb.Studio(tiny_recipe(train__epochs=1, data__limit=200), out=None, hz=50)
    studio.wait_data(HANG_S)
    refs = []
    for _ in range(20):
        assert studio.start()
        assert studio.wait(HANG_S)
        refs.append(weakref.ref(studio.run.model))
    gc.collect()
    alive = [r() is not None for r in refs]
    assert alive[-1] and sum(alive) == 1  # only the latest run keeps its model
    assert all(r.history.length("batch_loss") > 0 for r in studio.runs)  # histories and metrics stay
    assert sum(r.data is not None for r in studio.runs) == 1
    studio.close()


def test_deploy_tools_export_optimize_ensemble_and_command_line(studio):
    assert studio.start() and studio.wait(HANG_S)
    studio.update({"train.lr": 0.01})
    assert studio.start() and studio.wait(HANG_S)
    assert studio.runs[0].model is None  # released: the tools reload it from its folder
    deploy = studio.runs_panel.deploy
    studio.runs_panel.select.value = (0,)
    deploy.export()
    settle(deploy.task, timeout=HANG_S)
    assert "model.onnx" in deploy.output.value and "download=" in deploy.output.value
    assert "max_abs_diff" in deploy.output.value or "max abs" in deploy.output.value
    deploy.optimize()
    settle(deploy.task, timeout=HANG_S)
    assert "qint8" in deploy.output.value or "int8" in deploy.output.value
    studio.runs_panel.select.value = (0, 1)
    deploy.ensemble()
    settle(deploy.task, timeout=HANG_S)
    assert "ensemble" in deploy.output.value.lower()
    assert deploy.command_line().startswith("torchrun --standalone --nproc_per_node 2 -m lepton_nb run")
    deploy.nproc.value = 7
    assert deploy.command_line() == "" and "train.batch_size: 64" in deploy.output.value


def test_wait_returns_and_the_run_is_listed_when_the_live_view_fails(studio, monkeypatch):
    from lepton_nb.ui.views.live import LiveMonitor

    def broken_push(self):
        raise RuntimeError("front end gone")

    monkeypatch.setattr(LiveMonitor, "push", broken_push)
    assert studio.start()
    assert studio.wait(HANG_S)  # used to hang forever: the feed thread died before reporting the end
    assert studio.session.state == "completed" and len(studio.runs) == 1
    assert "live view failed" in studio.train_panel.error.value and "front end gone" in studio.train_panel.error.value


def test_lr_finder_is_refused_while_a_run_trains(studio):
    studio.update({"train.epochs": 50})
    assert studio.start()
    wait_for(lambda: studio.session.state == "running")
    studio.train_panel.find_lr()
    assert "cannot run the LR finder: a training run is running" in studio.train_panel.lr_status.value
    studio.stop()
    assert studio.wait(HANG_S)
    assert studio.find_lr(timeout=HANG_S) is not None  # free again once the run ended
    assert studio.start()  # and the finder released the job
    studio.stop()
    studio.wait(HANG_S)


def test_normalization_panel_on_a_streamed_image_folder(tmp_path, monkeypatch):
    import lepton_nb.data.sources as sources
    from tests.data.test_sources import make_image_folder

    monkeypatch.setattr(sources, "IN_MEMORY_BUDGET_BYTES", 0)  # too big for memory: streamed from disk
    root = make_image_folder(tmp_path / "imgs")
    s = lnb.Studio(lnb.Recipe.default().updated({"data.source": "image_folder", "data.root": str(root),
                                                 "data.image_size": 16}), out=tmp_path)
    try:
        data = s.wait_data(HANG_S)
        assert data is not None and data.lazy
        settle(s.data_panel.norm_task)
        assert "mean" in s.data_panel.stats.value and "Error" not in s.data_panel.stats.value
        assert s.data_panel.hist.value[:4] == b"\x89PNG"
    finally:
        s.close()


def test_close_leaves_no_thread_running_and_the_process_exits_cleanly():
    code = (
        "import threading, lepton_nb as lnb\n"
        "from tests.conftest import HANG_S, tiny_recipe\n"
        "s = lnb.Studio(tiny_recipe(train__epochs=200), out=None)\n"
        "s.wait_data(HANG_S)\n"
        "assert s.start()\n"
        "s.find_lr(wait=False)\n"
        "s.augment_panel.refresh()\n"
        "s.close()\n"
        "alive = [t.name for t in threading.enumerate() if t.name.startswith('lepton_nb') and t.is_alive()]\n"
        "print('ALIVE', alive)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_S,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ALIVE []" in proc.stdout


def test_a_dashboard_page_load_never_starts_training_but_a_click_does(studio, monkeypatch):
    monkeypatch.setenv("VOILA_KERNEL_ID", "k")
    assert not studio.start() and "press ▶ Start" in studio.monitor.message
    assert studio.session.state == "idle"
    studio.monitor._on_msg(studio.monitor, {"type": "command", "name": "start"}, [])  # the button
    assert studio.session.state != "idle" and studio.wait(HANG_S)


def test_the_end_of_a_run_wakes_the_live_feed_at_once(tmp_path):
    studio = lnb.Studio(tiny_recipe(), out=None, hz=0.05)  # a tick every 20 s once the first point is out
    try:
        assert studio.wait_data(HANG_S) is not None and studio.start()
        assert studio.wait(15, panels=False)  # listed long before the next tick would have noticed the end
        assert studio.run is not None and studio.run.status == "completed"
        assert studio.wait(HANG_S)
    finally:
        studio.close()


def test_a_tab_is_one_entry_in_panels_and_hears_what_every_tab_hears(tmp_path, monkeypatch):
    import lepton_nb.ui.studio as studio_module
    from lepton_nb.ui.panels.base import Tab

    heard = []

    class NotesPanel(Tab):  # a test-only tab: its class and one entry in PANELS, nothing else
        title, key = "Notes", "notes"

        def __init__(self, ctx):
            self.ctx, self.box = ctx, W.HTML("notes")

        def refresh(self, recipe, changed=frozenset()):
            heard.append(("refresh", frozenset(changed)))

        def show_run(self, run, visible=True):
            heard.append(("show_run", run.status))

        def close(self, timeout=60.0):
            heard.append(("close", None))

    monkeypatch.setattr(studio_module, "PANELS", (*studio_module.PANELS, NotesPanel))
    studio = lnb.Studio(tiny_recipe(**{"train.epochs": 1}), out=None, worker="thread")
    try:
        assert studio.wait_data(60) is not None
        assert studio.tabs.get_title(len(studio.panels) - 1) == "Notes" and studio.notes_panel.box.value == "notes"
        assert studio.start() and studio.wait(60)
        studio.update({"train.lr": 0.01})
    finally:
        studio.close()
    assert ("refresh", frozenset({"loaded"})) in heard and ("show_run", "completed") in heard
    assert ("refresh", frozenset({"train"})) in heard and heard[-1] == ("close", None)


def test_start_validates_the_recipe_once(tmp_path, monkeypatch):
    studio = lnb.Studio(tiny_recipe(**{"train.epochs": 1}), out=None, worker="thread")
    try:
        assert studio.wait_data(60) is not None
        calls = []
        real = lnb.Recipe.validate
        monkeypatch.setattr(lnb.Recipe, "validate", lambda self: calls.append(1) or real(self))
        assert studio.start() and studio.wait(60) and studio.session.state == "completed"
        assert len(calls) == 1  # on its way from the panels to the run, once
    finally:
        studio.close()
