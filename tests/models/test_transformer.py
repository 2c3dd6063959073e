import pytest
import torch

import lepton_nb as lnb
from lepton_nb.data import DataSpec
from lepton_nb.models import build_model, count_parameters, summarize
from lepton_nb.models.transformer import build_masked_lm, sinusoids
from lepton_nb.recipe import ModelSection

SPEC = DataSpec("text", [12], 2, ["neg", "pos"], vocab_size=50)


def small(**kw) -> ModelSection:
    return ModelSection(**{"arch": "text_transformer", "embed_dim": 16, "heads": 4, "depth": 2, "hidden": 32,
                           "dropout": 0.0, **kw})


def ids(n: int = 3) -> torch.Tensor:
    x = torch.randint(2, 50, (n, 12), generator=torch.Generator().manual_seed(0))
    x[0, 5:] = 0
    return x


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_transformer_maps_ids_to_logits_and_keeps_attention_per_layer_and_head(positions, pooling):
    model = build_model(small(positions=positions, pooling=pooling), SPEC, seed=0).eval()
    for attn in model.features.attention_modules():
        attn.keep_weights = True
    out = model(ids())
    assert out.shape == (3, 2)
    weights = [a.last_weights for a in model.features.attention_modules()]
    n = 13 if pooling == "cls" else 12
    assert len(weights) == 2 and weights[0].shape == (3, 4, n, n)
    assert torch.allclose(weights[0].sum(-1), torch.ones(3, 4, n))
    pad_cols = weights[0][0, :, :, (6 if pooling == "cls" else 5):]
    assert float(pad_cols.abs().max()) == 0.0  # padding receives no attention
    rows = summarize(model, SPEC.input_shape, torch.long)
    assert sum(r.params for r in rows) == count_parameters(model)
    assert {"q", "k", "v"} <= {r.name.rsplit(".", 1)[-1] for r in rows}


def test_padding_does_not_change_the_prediction():
    model = build_model(small(), SPEC, seed=0).eval()
    x = ids(1)
    x[0, 6:] = 0
    longer = torch.zeros(1, 12, dtype=torch.long)
    longer[0, :6] = x[0, :6]
    assert torch.allclose(model(x), model(longer))
    mean = build_model(small(pooling="mean"), SPEC, seed=0).eval()
    empty = torch.zeros(1, 12, dtype=torch.long)
    assert torch.isfinite(mean(empty)).all()


def test_seeded_weights_and_sizes():
    a = build_model(small(), SPEC, seed=3).state_dict()
    b = build_model(small(), SPEC, seed=3).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert count_parameters(build_model(small(depth=3), SPEC)) > count_parameters(build_model(small(), SPEC))
    assert sinusoids(10, 16).shape == (10, 16)


def test_heads_must_divide_the_width():
    with pytest.raises(lnb.RecipeError, match=r"model.heads: 5 .*embed_dim \(16\).*allowed: 1, 2, 4, 8, 16"):
        lnb.Recipe.preset("sentiment").updated({"model.arch": "text_transformer", "model.embed_dim": 16,
                                                "model.heads": 5})
    with pytest.raises(lnb.ModelError, match="model.heads"):
        build_model(small(heads=5), SPEC)


def test_masked_lm_shares_the_encoder_shapes_and_predicts_every_position():
    lm = build_masked_lm(SPEC, small())
    clf = build_model(small(), SPEC)
    lm_feats = {k: v.shape for k, v in lm.state_dict().items() if k.startswith("features.")}
    clf_feats = {k: v.shape for k, v in clf.state_dict().items() if k.startswith("features.")}
    assert lm_feats == clf_feats
    assert lm(ids()).shape == (3, 50, 12)


def test_bag_of_ngrams_uses_bigrams_and_ignores_padding():
    spec = DataSpec("text", [8], 2, ["a", "b"], vocab_size=30)
    model = build_model(ModelSection(arch="text_bow", embed_dim=8, buckets=100, dropout=0.0), spec, seed=0).eval()
    assert float(model.features.bigrams.weight.abs().max()) == 0.0  # bigrams start neutral
    with torch.no_grad():
        model.features.bigrams.weight[1:].normal_(generator=torch.Generator().manual_seed(0))
    x = torch.tensor([[3, 4, 5, 0, 0, 0, 0, 0], [5, 4, 3, 0, 0, 0, 0, 0]])
    out = model(x)
    assert out.shape == (2, 2)
    assert not torch.allclose(out[0], out[1])  # same words, other order: the bigrams differ
    unigram = build_model(ModelSection(arch="text_bow", embed_dim=8, buckets=0, dropout=0.0), spec, seed=0).eval()
    u = unigram(x)
    assert torch.allclose(u[0], u[1])
    padded = torch.tensor([[3, 4, 5, 0, 0, 0, 0, 0]])
    assert torch.allclose(model(padded), model(torch.tensor([[3, 4, 5, 0, 0, 0, 0, 0]])))


def test_text_models_refuse_images():
    with pytest.raises(lnb.ModelError, match="not for image data"):
        build_model(small(), DataSpec("image", [1, 8, 8], 10, [str(i) for i in range(10)]))
