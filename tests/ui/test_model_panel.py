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
    assert "trainable (100.0 %)" in plain and "frozen" not in plain


def test_model_tab_counts_what_start_trains_before_start(tmp_path):
    """Freezing is applied to the summary's model as Start applies it: head only, or peft's LoRA by default."""
    recipe = text_recipe(write_sentiment(tmp_path / "r.tsv", n=60))
    data = build_data(recipe)
    panel = object.__new__(ModelPanel)
    head_only = panel._summarize(recipe.updated({"model.init_from": str(tmp_path), "model.freeze": "features"}),
                                 data)
    assert "of" in head_only and "frozen: features" in head_only and "(100.0 %)" not in head_only
    lora = panel._summarize(recipe.updated({"model.adapter": {"kind": "lora", "r": 2, "alpha": 4}}), data)
    assert "frozen: features" in lora and "(100.0 %)" not in lora
