"""Figures that say what they show: histograms whose shape survives normalization, a top-loss gallery that counts
its mistakes, subword pieces as a reader reads them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from lepton_nb.plotting import plot_histograms, plot_top_losses
from lepton_nb.plotting.attributions import readable_tokens, token_html
from lepton_nb.plotting.figures import matching_bins


@settings(max_examples=60, deadline=None)
@given(levels=st.integers(2, 300), n=st.integers(2, 3000), seed=st.integers(0, 10_000))
def test_standardized_values_fall_in_the_same_bins_as_the_originals(levels, n, seed):
    rng = np.random.default_rng(seed)
    before = (rng.integers(0, levels, n) / (levels - 1)).astype(np.float32)  # grey levels like digits' 0..16
    after = ((before - before.mean()) / (before.std() + 1e-3)).astype(np.float32)
    eb, ea = matching_bins(before, after)
    assert np.array_equal(np.histogram(before, eb)[0], np.histogram(after, ea)[0])


def test_the_histogram_legend_gives_mean_and_std_before_and_after():
    before = np.linspace(0, 1, 17).repeat(10)
    after = (before - before.mean()) / before.std() - 1e-9  # a mean a hair below 0 reads 0.00, never -0.00
    fig = Figure()
    ax = fig.subplots()
    plot_histograms(ax, before, after)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["before: mean 0.50, std 0.31", "after: mean 0.00, std 1.00"]
    heights = [[round(p.get_height(), 6) for p in c] for c in ax.containers]
    assert heights[0] == heights[1] and len(heights[0]) == 17  # one bar per grey level, the same heights


def test_the_top_loss_gallery_counts_its_mistakes():
    fig = Figure()
    probs = np.array([[0.1, 0.9], [0.6, 0.4], [0.45, 0.55]])
    wrong = plot_top_losses(fig, np.zeros((3, 1, 4, 4)), [0, 0, 1], [1, 0, 1], probs, ["negative", "positive"],
                            errors=5)
    assert wrong == 1
    assert fig._suptitle.get_text() == ("the 3 highest losses: 1 wrong (red), 2 right but unsure (green); the split "
                                        "has 5 errors in all")
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles == ["negative→positive (90%)", "negative→negative (60%)", "positive→positive (55%)"]


@pytest.mark.parametrize("pieces,shown", [
    (["[CLS]", "the</w>", "un", "watch", "able</w>", "film</w>"], ["[CLS]", "the", "un-", "watch-", "able", "film"]),
    (["the", "film", "<unk>"], ["the", "film", "<unk>"]),  # whole words: unchanged
])
def test_subword_pieces_are_shown_without_their_end_of_word_marker(pieces, shown):
    assert readable_tokens(pieces) == shown
    assert "&lt;/w&gt;" not in token_html(pieces, np.ones(len(pieces)))
