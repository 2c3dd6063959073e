"""lnb.train: a run whose data cannot load says so and leaves no run folder behind."""

import pytest

import lepton_nb as lnb
from lepton_nb.errors import LeptonError


def test_data_that_cannot_load_writes_no_run_folder(tmp_path):
    recipe = lnb.Recipe.preset("wine").updated({"data.source": "csv", "data.path": str(tmp_path / "my_table.csv")})
    out = tmp_path / "runs"
    with pytest.raises(LeptonError, match="my_table.csv"):
        lnb.train(recipe, out=out, progress=False)
    assert not out.exists() or list(out.iterdir()) == []  # no folder holding only recipe.json
