import pytest
import torch

from lepton_nb.data.augment import BatchAugment, augment_with, torchvision_pipeline
from lepton_nb.recipe import AUGMENT_OPS, default_op

IMAGE_OPS = [name for name, spec in AUGMENT_OPS.items() if "image" in spec.kinds]


def images(n=16, c=1, size=12):
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_image_ops_keep_shape_and_range_and_are_seeded(name):
    x = images(c=3)
    aug = BatchAugment([default_op(name)], "image")
    a = aug(x, torch.Generator().manual_seed(5))
    b = aug(x, torch.Generator().manual_seed(5))
    c = aug(x, torch.Generator().manual_seed(6))
    assert a.shape == x.shape and float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, b)
    assert not torch.equal(a, c) or name in ("horizontal_flip", "vertical_flip")


def test_parameters_differ_per_sample():
    x = images(1).repeat(32, 1, 1, 1)  # the same image 32 times
    out = augment_with("rotation", x, torch.Generator().manual_seed(0), degrees=30)
    distinct = {tuple(o.flatten()[:20].tolist()) for o in out}
    assert len(distinct) > 25


def test_flip_is_exact_and_respects_p():
    x = images()
    g = torch.Generator().manual_seed(0)
    assert torch.equal(augment_with("horizontal_flip", x, g, p=1.0), x.flip(-1))
    assert torch.equal(augment_with("horizontal_flip", x, g, p=0.0), x)


def test_random_crop_shifts_content_by_at_most_padding():
    x = torch.zeros(64, 1, 9, 9)
    x[:, :, 4, 4] = 1  # a single bright pixel in the centre
    out = augment_with("random_crop", x, torch.Generator().manual_seed(0), padding=2)
    pos = out.flatten(1).argmax(1)
    rows, cols = pos // 9, pos % 9
    assert rows.min() >= 2 and rows.max() <= 6 and cols.min() >= 2 and cols.max() <= 6
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10


def test_zero_rotation_is_identity():
    x = images()
    out = augment_with("affine", x, torch.Generator().manual_seed(0))
    assert torch.allclose(out, x, atol=1e-5)


def test_text_ops():
    ids = torch.tensor([[5, 6, 7, 8, 0, 0], [9, 10, 11, 0, 0, 0]])
    drop = BatchAugment([{"op": "word_dropout", "p": 0.9}], "text")(ids, torch.Generator().manual_seed(0))
    assert torch.equal(drop == 0, ids == 0)  # padding untouched
    assert (drop == 1).sum() >= 3
    swapped = augment_with("word_swap", ids, torch.Generator().manual_seed(0), False, p=0.9)
    for row, orig in zip(swapped, ids):
        assert sorted(row.tolist()) == sorted(orig.tolist())  # a permutation of the same words
        assert torch.equal(row == 0, orig == 0)
    assert not torch.equal(swapped, ids)


def test_tabular_noise_is_not_clipped():
    x = torch.full((100, 4), 3.0)
    out = BatchAugment([{"op": "gaussian_noise", "std": 0.5}], "tabular")(x, torch.Generator().manual_seed(0))
    assert float(out.max()) > 3.5 and 0.3 < float(out.std()) < 0.7


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_torchvision_pipeline_applies_the_same_ops_per_sample(name):
    pipe = torchvision_pipeline([default_op(name)], 12)
    out = pipe(images(1, 3)[0])
    assert out.shape == (3, 12, 12)
