"""The house stays easy to follow: the recipe's path through `lnb.train` (traced by `benchmarks/house.py`), string
dispatch, and a studio that only composes."""

import importlib.util
from pathlib import Path

import pytest

HOUSE = Path(__file__).resolve().parents[1] / "benchmarks" / "house.py"


@pytest.fixture(scope="module")
def house():
    spec = importlib.util.spec_from_file_location("house", HOUSE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_recipe_reaches_few_rooms_top_down_through_lnb_train(house, tmp_path):
    figures = house.recipe_path(tmp_path)
    assert figures["modules_entered"] <= 8, figures["path"]
    assert figures["climbs"] <= 3, figures["path"]
    assert figures["returns"] <= 10, figures["path"]
    # the other run is opened through one reader, before the run is assembled
    assert "lepton_nb.workflows.finetune" not in figures["path"]


def test_the_tracer_counts_climbs_and_returns(house):
    path = ["lepton_nb.workflows.fit", "lepton_nb.data.build", "lepton_nb.workflows.plan",
            "lepton_nb.data.build", "lepton_nb.artifacts.run"]
    assert house.path_figures(path) == {"modules_entered": 4, "climbs": 2, "returns": 1, "path": path}


def test_names_dispatch_through_tables_and_the_studio_only_composes(house):
    assert house.literal_comparisons() <= 190
    assert house.studio_shape() == {"lines": house.studio_shape()["lines"], "mixins": 0}
    assert house.studio_shape()["lines"] <= 250
