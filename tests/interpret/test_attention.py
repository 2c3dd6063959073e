import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import lepton_nb as lnb  # noqa: E402
from lepton_nb.artifacts.predictor import Preprocessor  # noqa: E402
from lepton_nb.data import DataSpec, Vocab  # noqa: E402
from lepton_nb.interpret.attention import attention_views, rollout  # noqa: E402
from lepton_nb.models import build_model  # noqa: E402
from lepton_nb.plotting.attention import plot_attention_grid, plot_attention_head, plot_rollout  # noqa: E402
from lepton_nb.recipe import ModelSection  # noqa: E402

VOCAB = Vocab(["<pad>", "<unk>", "the", "film", "was", "great", "awful", "plot"])
SPEC = DataSpec("text", [8], 2, ["neg", "pos"], vocab_size=len(VOCAB))


def model(pooling="cls"):
    cfg = ModelSection(arch="text_transformer", embed_dim=8, heads=2, depth=3, hidden=16, pooling=pooling)
    return build_model(cfg, SPEC, seed=0)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_views_hold_every_layer_and_head_over_the_sentence_tokens(pooling):
    views = attention_views(model(pooling), Preprocessor(SPEC, VOCAB, 8), ["the film was great", "awful plot"],
                            SPEC.classes)
    first = views[0]
    n = 5 if pooling == "cls" else 4
    assert first.tokens[-4:] == ["the", "film", "was", "great"] and len(first.tokens) == n
    assert first.weights.shape == (3, 2, n, n) and first.layers == 3 and first.heads == 2
    assert np.allclose(first.weights.sum(-1), 1.0, atol=1e-5)
    assert first.rollout.shape == (n,) and abs(first.rollout.sum() - 1.0) < 1e-5
    assert first.prediction in SPEC.classes
    assert views[1].weights.shape[-1] == (3 if pooling == "cls" else 2)
    with pytest.raises(lnb.UsageError, match="layer 0..2"):
        first.head(3, 0)


def test_rollout_of_identity_attention_keeps_each_token_to_itself():
    eye = np.tile(np.eye(4), (2, 3, 1, 1))
    assert np.allclose(rollout(eye), [1, 0, 0, 0])
    uniform = np.full((1, 1, 4, 4), 0.25)
    assert np.allclose(rollout(uniform), [0.5 + 0.125, 0.125, 0.125, 0.125])


def test_attention_figures_draw_on_given_axes():
    view = attention_views(model(), Preprocessor(SPEC, VOCAB, 8), ["the film was great"])[0]
    fig = Figure()
    ax1, ax2 = fig.subplots(1, 2)
    plot_attention_head(ax1, view.head(0, 1), view.tokens, "layer 0, head 1")
    plot_rollout(ax2, view.rollout, view.tokens)
    assert ax1.get_title() == "layer 0, head 1" and len(ax2.patches) == len(view.tokens)
    grid = Figure()
    plot_attention_grid(grid, view.weights, view.tokens)
    assert len(grid.axes) == 6


def test_other_models_have_no_attention():
    cnn = build_model(ModelSection(arch="text_cnn", width=4, embed_dim=8), SPEC)
    with pytest.raises(lnb.UsageError, match="text_transformer"):
        attention_views(cnn, Preprocessor(SPEC, VOCAB, 8), ["the film"])
