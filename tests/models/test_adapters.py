import pytest
import torch

import lepton_nb as lnb
from lepton_nb.data import DataSpec
from lepton_nb.models import build_model, count_parameters, has_adapters, merge_lora, summarize
from lepton_nb.models.transformer import explain_sizes
from lepton_nb.recipe import AdapterSection, ModelSection

TEXT = DataSpec("text", [10], 2, ["neg", "pos"], vocab_size=40)
IMAGE = DataSpec("image", [1, 8, 8], 10, [str(i) for i in range(10)])


def transformer(**kw) -> ModelSection:
    return ModelSection(**{"arch": "text_transformer", "embed_dim": 16, "heads": 2, "depth": 2, "hidden": 32,
                           "dropout": 0.0, **kw})


def lora(**kw) -> AdapterSection:
    return AdapterSection(**{"kind": "lora", "r": 4, "alpha": 8.0, **kw})


def ids() -> torch.Tensor:
    return torch.randint(1, 40, (3, 10), generator=torch.Generator().manual_seed(1))


def test_lora_starts_as_the_plain_model_and_trains_only_adapters_and_head():
    plain = build_model(transformer(), TEXT, seed=0).eval()
    adapted = build_model(transformer(adapter=lora(), freeze="features"), TEXT, seed=0).eval()
    assert torch.allclose(plain(ids()), adapted(ids()), atol=1e-6)  # B = 0: the adapters change nothing yet
    names = {n for n, p in adapted.named_parameters() if p.requires_grad}
    assert names and all(".lora_" in n or n.startswith("head.") for n in names)
    assert any("attn.q.lora_A" in n for n in names) and any("attn.v.lora_B" in n for n in names)
    assert not any("attn.k.lora" in n for n in names)  # default targets: q and v
    trainable = count_parameters(adapted, trainable_only=True)
    assert trainable == 2 * 2 * (16 * 4 + 4 * 16) + 16 * 2 + 2  # 2 blocks × (q, v) × (A + B) + head
    only = build_model(transformer(adapter=lora(), freeze="all_but_adapters"), TEXT, seed=0)
    assert all(".lora_" in n for n, p in only.named_parameters() if p.requires_grad)
    rows = summarize(adapted, TEXT.input_shape, torch.long)
    assert sum(r.params for r in rows) == count_parameters(adapted)


def test_adapter_weights_are_seeded():
    a = build_model(transformer(adapter=lora()), TEXT, seed=5).state_dict()
    b = build_model(transformer(adapter=lora()), TEXT, seed=5).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_merging_folds_the_update_into_plain_layers():
    model = build_model(transformer(adapter=lora()), TEXT, seed=0).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(generator=torch.Generator().manual_seed(2))
    before = model(ids())
    merged = merge_lora(model)
    assert has_adapters(model) and not has_adapters(merged)
    assert type(merged.features.blocks[0].attn.q) is torch.nn.Linear
    assert torch.allclose(before, merged(ids()), atol=1e-5)


@pytest.mark.parametrize("arch,spec,target", [("cnn", IMAGE, "features.0"), ("mlp", IMAGE, ""),
                                              ("text_cnn", TEXT, "convs.0")])
def test_lora_on_convolutions_and_dense_layers(arch, spec, target):
    cfg = ModelSection(arch=arch, width=8, hidden=16, embed_dim=8,
                       adapter=lora(r=2, targets=[target] if target else []), freeze="features")
    model = build_model(cfg, spec, seed=0)
    assert has_adapters(model)
    x = torch.randint(1, 40, (2, 10)) if spec.kind == "text" else torch.randn(2, 1, 8, 8)
    assert model(x).shape == (2, spec.num_classes)


def test_bad_adapter_settings_name_what_could_be_targeted():
    allowed = r"model.adapter.targets: .query. .*allowed: embedding, ff1, ff2, head.1, k, out, q, v or a full name"
    with pytest.raises(lnb.RecipeError, match=allowed):
        build_model(transformer(adapter=lora(targets=["query"])), TEXT)
    with pytest.raises(lnb.RecipeError, match=r"model.adapter.r: 32 .*allowed: 1 to 16"):
        build_model(transformer(adapter=lora(r=32)), TEXT)
    with pytest.raises(lnb.RecipeError, match='model.freeze: "all_but_adapters" — there are no adapters'):
        lnb.Recipe.preset("sentiment").updated({"model.freeze": "all_but_adapters"})


def test_size_explanation_adds_up_to_the_parameter_count():
    for kw in ({}, {"positions": "learned"}, {"pooling": "mean"}):
        cfg = transformer(**kw)
        assert sum(n for _, n in explain_sizes(cfg, TEXT)) == count_parameters(build_model(cfg, TEXT))


def test_lora_on_the_word_embedding_starts_unchanged_is_seeded_and_merges():
    cfg = transformer(adapter=lora(targets=["q", "v", "embedding"]), freeze="features")
    plain = build_model(transformer(), TEXT, seed=0).eval()
    adapted = build_model(cfg, TEXT, seed=0).eval()
    assert torch.allclose(plain(ids()), adapted(ids()), atol=1e-6)  # A = 0 for an embedding
    names = {n for n, p in adapted.named_parameters() if p.requires_grad}
    assert {"features.embedding.lora_embedding_A.default", "features.embedding.lora_embedding_B.default"} <= names
    assert count_parameters(adapted, trainable_only=True) == (2 * 2 * (16 * 4 + 4 * 16) + 16 * 2 + 2
                                                              + 4 * 41 + 16 * 4)  # A: r × (40 + [MASK]); B: D × r
    again = build_model(cfg, TEXT, seed=0).state_dict()
    assert all(torch.equal(v, again[k]) for k, v in adapted.state_dict().items())
    with torch.no_grad():
        adapted.features.embedding.lora_embedding_A["default"].normal_(generator=torch.Generator().manual_seed(3))
    before = adapted(ids())
    assert not torch.allclose(before, plain(ids()))
    merged = merge_lora(adapted)
    assert type(merged.features.embedding) is torch.nn.Embedding and not has_adapters(merged)
    assert torch.allclose(merged(ids()), before, atol=1e-5)


@pytest.mark.parametrize("freeze", ["features", "all_but_adapters"])
def test_adapter_dropout_applies_while_training_inside_frozen_features(freeze):
    from lepton_nb.workflows.finetune import initialize

    cfg = transformer(adapter=lora(dropout=0.5), freeze=freeze)
    model = build_model(cfg, TEXT, seed=0)
    initialize(model, cfg, TEXT)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(generator=torch.Generator().manual_seed(2))
    drops = [m.lora_dropout["default"] for m in model.modules() if hasattr(m, "lora_dropout")]
    model.train()
    assert drops and all(d.training for d in drops)
    assert not model.features.blocks[0].drop1.training  # the frozen base stays in eval mode
    assert not torch.allclose(model(ids()), model(ids()))  # adapter dropout draws a new mask each pass
    model.eval()
    assert not any(d.training for d in drops)
    assert torch.allclose(model(ids()), model(ids()))
