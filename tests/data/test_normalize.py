import numpy as np
import pytest
import torch

import lepton_nb as lnb
from lepton_nb.data.normalize import compute_stats
from lepton_nb.recipe import NormalizeSection
from tests.conftest import tiny_recipe


def test_stats_come_from_the_train_split_only():
    b = lnb.build_data(tiny_recipe())
    x = b.train.x.double()
    assert b.norm.count == len(b.train)
    assert b.norm.mean[0] == pytest.approx(float(x.mean()), rel=1e-9)
    assert b.norm.std[0] == pytest.approx(float(x.std(unbiased=False)), rel=1e-9)
    everything = torch.cat([b.train.x, b.val.x, b.test.x]).double()
    assert b.norm.mean[0] != pytest.approx(float(everything.mean()), rel=1e-6)


def test_changing_val_and_test_does_not_change_stats():
    b = lnb.build_data(tiny_recipe())
    before = b.norm.mean
    b.splits["test"].x.mul_(0).add_(1.0)
    b.splits["val"].x.mul_(0)
    again = compute_stats(b.train.x, NormalizeSection())
    assert again.mean == before


def test_standardized_train_inputs_have_zero_mean_unit_std_per_channel():
    x = torch.rand(200, 3, 4, 4) * torch.tensor([1.0, 5.0, 0.1]).view(1, 3, 1, 1) + torch.tensor([0, 2, -1]).view(
        1, 3, 1, 1)
    stats = compute_stats(x, NormalizeSection("standardize"))
    y = stats.apply(x)
    assert np.allclose(y.mean((0, 2, 3)).numpy(), 0, atol=1e-5)
    assert np.allclose(y.std((0, 2, 3), unbiased=False).numpy(), 1, atol=1e-4)
    assert torch.allclose(stats.invert(y), x, atol=1e-5)


def test_minmax_and_explicit_and_none():
    x = torch.rand(50, 2, 3, 3) * 4 + 1
    mm = compute_stats(x, NormalizeSection("minmax")).apply(x)
    assert float(mm.min()) == pytest.approx(0, abs=1e-6) and float(mm.max()) == pytest.approx(1, abs=1e-6)
    ex = compute_stats(x, NormalizeSection("explicit", mean=[1.0], std=[2.0])).apply(x)
    assert torch.allclose(ex, (x - 1) / 2)
    assert torch.equal(compute_stats(x, NormalizeSection("none")).apply(x), x)


def test_explicit_with_wrong_channel_count_is_a_clear_error():
    with pytest.raises(lnb.DataError, match="normalize.mean.*allowed: 1 or 3"):
        compute_stats(torch.rand(4, 3, 2, 2), NormalizeSection("explicit", mean=[0.1, 0.2], std=[1.0, 1.0]))


def test_uint8_storage_stats_are_on_the_unit_scale(mnist_root):
    r = lnb.Recipe.preset("mnist").updated({"data.root": str(mnist_root), "data.download": False,
                                            "data.official_split": "test", "data.limit": 2000})
    b = lnb.build_data(r)
    assert 0.12 < b.norm.mean[0] < 0.15 and 0.29 < b.norm.std[0] < 0.33  # MNIST's well-known values
