"""Start trains only what can train: data that does not load disables it (with the reason), leaves nothing of the
previous data on screen, starts no run and writes no folder; fixing the data enables it again and clears the error.
The run's name follows its data and model until the user names it."""

import lepton_nb as lnb
from lepton_nb.datasets import make_credit_csv
from lepton_nb.errors import DataError
from lepton_nb.ui.forms import RecipeForm
from lepton_nb.ui.panels.data import FollowingName
from lepton_nb.ui.readiness import REFUSED, show_readiness, start_blocker
from lepton_nb.ui.views.live import LiveMonitor
from tests.ui.conftest import settle


def test_a_bad_data_path_disables_start_and_shows_nothing_of_the_old_data(studio, tmp_path):
    assert studio.data.source == "digits" and studio.data_panel.samples.value[:4] == b"\x89PNG"
    controls = studio.form.controls()
    controls["data.source"].widget.value = "csv"  # a new student's first try: a path that is not there
    controls["data.path"].widget.value = "data/my_table.csv"
    settle(studio.ctx.loader.task)
    panel = studio.data_panel
    assert studio.data is None and "my_table.csv" in panel.status.value
    assert "ValueError" not in panel.status.value.split("title=")[0]  # the technical name only on hover
    assert panel.summary.value == "" and panel.samples_html.value == "" and panel.stats.value == ""
    assert panel.samples.layout.display == "none" and panel.hist.layout.display == "none"  # no digits left
    assert "once the data loads" in studio.model_panel.info.value
    assert studio.augment_panel.preview.layout.display == "none"
    monitor = studio.monitor
    assert not monitor.can_start and "my_table.csv" in monitor.start_hint
    assert studio.recipe.name == "csv-tabular-mlp"  # not "digits-cnn"
    assert not studio.start(force=True) and monitor.message.startswith(REFUSED)  # the click is refused
    assert studio.runs == [] and list(tmp_path.iterdir()) == []  # no run listed, no folder written

    monitor.state = "error"  # what a run that failed on its data left in the monitor
    controls["data.path"].widget.value = str(make_credit_csv(tmp_path / "credit.csv", rows=200))
    assert studio.wait_data(60) is not None and studio.data.source == "csv"
    assert monitor.can_start and monitor.start_hint == ""
    assert monitor.state == "idle" and not monitor.message.startswith(REFUSED)  # no stale error
    assert panel.samples_html.value and "Cleaning" in panel.summary.value


def test_start_blocker_prefers_the_recipes_problems_and_names_the_data_error():
    error = DataError("data.path: 'x.csv' — no such file; allowed: an existing CSV file")
    assert start_blocker([], None) == ""
    assert start_blocker([], error).startswith("the data did not load: data.path: 'x.csv'")
    monitor = LiveMonitor()
    show_readiness(monitor, [], error)
    assert not monitor.can_start and monitor.start_hint.startswith("fix first: the data did not load")
    show_readiness(monitor, [], None, reloaded=True)
    assert monitor.can_start and monitor.start_hint == ""


def test_the_name_follows_the_data_and_model_until_the_user_names_the_run():
    form = RecipeForm(lnb.Recipe.default().updated({"augment.ops": []}))  # ops that fit any data
    FollowingName(form)
    controls = form.controls()
    controls["model.arch"].widget.value = "resnet"
    assert form.recipe.name == "digits-resnet"
    controls["data.source"].widget.value = "wine"
    controls["model.arch"].widget.value = "tabular_mlp"
    assert form.recipe.name == "wine-mlp"  # the preset's name for this data and model
    controls["name"].widget.value = "my-experiment"
    controls["data.source"].widget.value = "breast_cancer"
    assert form.recipe.name == "my-experiment"  # a name the user typed stays
