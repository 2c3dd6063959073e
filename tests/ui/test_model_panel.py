from lepton_nb.data import build_data
from lepton_nb.ui.panels.model import ModelPanel
from tests.conftest import write_sentiment
from tests.workflows.test_transformers import text_recipe


def test_model_tab_explains_transformer_sizes_and_trainable_parameters(tmp_path):
    recipe = text_recipe(write_sentiment(tmp_path / "r.tsv", n=60), **{
        "model.adapter": {"kind": "lora", "r": 2, "alpha": 4}, "model.freeze": "features"})
    data = build_data(recipe)
    panel = object.__new__(ModelPanel)  # the summary needs no studio
    text = panel._summarize(recipe, data)
    assert "trainable" in text and "%)" in text
    assert "token embedding" in text and "1 blocks" in text and "2 heads of 8 dims" in text
    plain = panel._summarize(recipe.updated({"model.adapter.kind": "none", "model.freeze": "none"}), data)
    assert "trainable" not in plain
