"""Image files of every mode become 8-bit RGB by one stated rule (16-bit grey scaled, transparency over white,
palettes expanded), the same in training and in `predict`, said once in the data summary; NaN/inf inputs are
refused wherever they come in (own tensors, predict inputs), naming the split or sample and the position."""

from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

import lepton_nb as lnb
from lepton_nb.data.images import conversion_note, to_8bit
from lepton_nb.errors import DataError
from tests.conftest import tiny_recipe

small = st.tuples(st.integers(1, 6), st.integers(1, 6))


@settings(max_examples=40, deadline=None)
@given(small.flatmap(lambda hw: arrays(np.uint16, hw)))
def test_16_bit_grey_is_divided_by_257_not_clipped(values):
    arr, kind = to_8bit(Image.fromarray(values))
    expected = np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8)
    assert kind == "16-bit grey" and arr.shape == (*values.shape, 3)
    assert (arr == expected[..., None]).all()


@settings(max_examples=40, deadline=None)
@given(small.flatmap(lambda hw: arrays(np.uint8, (*hw, 4))))
def test_transparency_is_composited_over_white(rgba):
    arr, kind = to_8bit(Image.fromarray(rgba, "RGBA"))
    alpha = rgba[..., 3:].astype(np.float64) / 255
    expected = rgba[..., :3] * alpha + 255 * (1 - alpha)
    assert kind == "RGBA" and np.abs(arr.astype(np.float64) - expected).max() <= 1.0
    grey, kind = to_8bit(Image.fromarray(rgba[..., [0, 3]], "LA"))
    assert kind == "grey+alpha" and (grey[rgba[..., 3] == 0] == 255).all()  # fully transparent: white


def test_palettes_expand_and_grey_repeats():
    palette = Image.new("P", (3, 2))
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((1, 1), 1)
    arr, kind = to_8bit(palette)
    assert kind == "palette" and tuple(arr[0, 0]) == (255, 0, 0) and tuple(arr[1, 1]) == (0, 0, 255)
    palette.info["transparency"] = 0
    arr, kind = to_8bit(palette)
    assert kind == "palette with transparency" and tuple(arr[0, 0]) == (255, 255, 255)
    arr, kind = to_8bit(Image.new("L", (2, 2), 7))
    assert kind == "grey" and (arr == 7).all() and arr.shape == (2, 2, 3)
    one, _ = to_8bit(Image.new("RGB", (2, 2), (10, 20, 30)), channels=1)
    assert one.shape == (2, 2)


def test_float_images_are_refused():
    with pytest.raises(DataError, match="32-bit float image"):
        to_8bit(Image.fromarray(np.full((2, 2), np.nan, dtype=np.float32)), name="x.tif")


def mixed_folder(root):
    """Two classes of images in five modes (16-bit grey, RGBA, palette, grey, RGB)."""
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        folder = root / c
        folder.mkdir(parents=True)
        Image.fromarray((rng.random((8, 8)) * 60000).astype(np.uint16)).save(folder / "deep.png")
        Image.fromarray((rng.random((8, 8, 4)) * 255).astype(np.uint8), "RGBA").save(folder / "alpha.png")
        Image.fromarray((rng.random((8, 8, 3)) * 255).astype(np.uint8)).convert("P").save(folder / "pal.png")
        Image.fromarray((rng.random((8, 8)) * 255).astype(np.uint8)).save(folder / "grey.png")
        for i in range(3):
            Image.fromarray((rng.random((8, 8, 3)) * 255).astype(np.uint8)).save(folder / f"rgb{i}.png")
    return root


def test_an_image_folder_says_once_how_its_files_were_converted_and_predict_agrees(tmp_path):
    root = mixed_folder(tmp_path / "imgs")
    recipe = lnb.Recipe.default().updated({"data.source": "image_folder", "data.root": str(root),
                                           "data.image_size": 8, "data.val_fraction": 0.0,
                                           "data.test_fraction": 0.0, "augment.ops": []})
    data = lnb.build_data(recipe)
    notes = [n for n in data.cleaning.notes if "converted" in n]
    assert notes == ["images converted to 8-bit RGB: 2 16-bit grey (divided by 257: 0–65,535 → 0–255), 2 RGBA "
                     "(transparency composited over white), 2 grey (repeated on 3 channels), 2 palette (expanded "
                     "through its colours)"]
    assert data.train.x.float().mean() > 40  # 16-bit images are not clipped to white, nor black
    deep = np.asarray(Image.open(root / "a" / "deep.png"), dtype=np.float64)
    arr, _ = to_8bit(Image.open(root / "a" / "deep.png"))
    assert abs(arr[..., 0].mean() - deep.mean() / 257) < 1
    run = lnb.train(recipe.updated({"train.epochs": 1}), data=data, out=None, progress=False)
    from lepton_nb.artifacts.predictor import Preprocessor

    pre = Preprocessor.from_bundle(data, 0)
    assert torch.equal(pre([root / "a" / "deep.png"])[0], torch.from_numpy(arr.copy()).permute(2, 0, 1).float() / 255)
    assert run.predict([root / "a" / "alpha.png", root / "b" / "pal.png"])


def test_conversion_note_is_silent_for_plain_rgb():
    assert conversion_note(Counter({"RGB": 5})) is None


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["train", "val", "test"]), st.integers(0, 10**6), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_one_non_finite_value_in_own_tensors_is_refused_naming_split_sample_and_position(
        digits_bundle, split, where, value):
    x = digits_bundle.splits[split].x.clone()
    i = where % len(x)
    pos = np.unravel_index(where % x[0].numel(), tuple(x.shape[1:]))
    x[(i, *pos)] = value
    original = digits_bundle.splits[split].x
    digits_bundle.splits[split].x = x  # the user's own bundle, changed after it was built
    try:
        with pytest.raises(DataError, match=rf"'{split}\[{i}\]' — sample {i} of the {split} split holds "
                                            rf"{value} at \({', '.join(map(str, pos))},?\)"):
            lnb.train(tiny_recipe(**{"train.epochs": 1}), data=digits_bundle, out=None, progress=False)
    finally:
        digits_bundle.splits[split].x = original


def test_a_nan_written_in_place_after_building_is_refused(digits_bundle):
    x = digits_bundle.train.x
    saved = x[4].clone()
    x.numpy()[4, 0, 1, 2] = np.nan  # through a numpy view: torch's version counter does not move
    try:
        with pytest.raises(DataError, match=r"'train\[4\]'"):
            lnb.train(tiny_recipe(**{"train.epochs": 1}), data=digits_bundle, out=None, progress=False)
    finally:
        x[4] = saved


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_predict_refuses_non_finite_inputs(digits_run, bad):
    images = np.random.default_rng(0).random((3, 1, 8, 8)).astype(np.float32)
    images[2, 0, 5, 1] = bad
    with pytest.raises(DataError, match=r"inputs: 'sample 2' — holds (nan|inf) at \(0, 5, 1\)"):
        digits_run.predict(images)
