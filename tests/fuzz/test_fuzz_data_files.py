"""Bad data files — CSV tables, sentence/label text files, image folders — either build data fit to train on
(non-empty splits, finite inputs, every class with samples) or raise the package's error naming the file."""

import shutil
import tempfile
from io import BytesIO
from pathlib import Path

import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import lepton_nb as lnb
from tests.fuzz.helpers import assert_clear, fuzz, record

NAMES = ("data.", "data (")
CELLS = ["", "1", "0", "-2.5", "3e8", "inf", "-inf", "nan", "NaN", "1e400", "abc", "x y", '"a,b"', "é", "True", "  ",
         "1,5", "\t"]


def build(recipe: lnb.Recipe, target: str) -> None:
    """Build the data; on success check that nothing unfit was accepted silently."""
    try:
        data = lnb.build_data(recipe)
    except Exception as exc:
        assert_clear(exc, target, NAMES)
        return
    cfg = recipe.data
    sizes = data.sizes()
    assert sizes["train"] >= 2 and (sizes["val"] > 0 or cfg.val_fraction == 0), sizes
    assert sizes["test"] > 0 or cfg.test_fraction == 0, sizes
    assert len(data.classes) >= 2 and len(set(data.classes)) == len(data.classes)
    counts = torch.bincount(torch.cat([s.y for s in data.splits.values()]), minlength=len(data.classes))
    assert bool((counts > 0).all()), f"a class without samples: {dict(zip(data.classes, counts.tolist()))}"
    for name, split in data.splits.items():
        if isinstance(split.x, torch.Tensor) and split.x.is_floating_point():
            assert bool(torch.isfinite(split.x).all()), name
    assert all(torch.isfinite(torch.tensor(v)).all() for v in (data.norm.shift, data.norm.scale) if v)
    record(target, "success")


def tabular(path: Path, **changes) -> lnb.Recipe:
    base = {"data.source": "csv", "data.path": str(path), "model.arch": "tabular_mlp", "augment.ops": []}
    return lnb.Recipe.preset("wine").updated({**base, **changes})


@st.composite
def csv_text(draw) -> str:
    n_cols = draw(st.integers(1, 4))
    header = [draw(st.sampled_from(["a", "b", "y", "", "a", "é", "label"])) for _ in range(n_cols)]
    rows = []
    for _ in range(draw(st.integers(0, 30))):
        width = n_cols if draw(st.integers(0, 9)) else draw(st.integers(0, n_cols + 2))  # now and then ragged
        rows.append(",".join(draw(st.sampled_from(CELLS)) for _ in range(width)))
    return "\n".join([",".join(header), *rows])


@fuzz()
@given(csv_text(), st.sampled_from(["mean", "median", "drop"]), st.booleans(), st.sampled_from(["utf-8", "cp1252"]))
def test_bad_csv_files(text, missing, outliers, encoding):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "table.csv"
        path.write_bytes(text.encode(encoding, errors="replace"))
        build(tabular(path, **{"data.clean.missing": missing,
                               "data.clean.outliers": "zscore" if outliers else "none"}), "bad data files")


@fuzz()
@given(st.lists(st.one_of(st.binary(max_size=30), st.sampled_from(
    [b"good film\t1", b"bad\t0", b"no tab here", b"\t1", b"only text\t", b"caf\xe9\t1", b"\xef\xbb\xbfx\t0",
     b"a\tb\tc", b"\r", b"line\t1\r", b"  \t  "])), max_size=25))
def test_bad_text_files(lines):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "sentences.txt"
        path.write_bytes(b"\n".join(lines))
        recipe = lnb.Recipe.preset("sentiment").updated({"data.path": str(path), "train.epochs": 1})
        build(recipe, "bad data files")


def png(colour: int) -> bytes:
    out = BytesIO()
    Image.new("RGB", (6, 6), (colour, 255 - colour, 0)).save(out, "PNG")
    return out.getvalue()


def image_bytes(mode: str, i: int, fmt: str = "PNG") -> bytes:
    """An image in another mode: 16-bit grey, grey+alpha, RGBA, palette, CMYK JPEG, 32-bit float TIFF."""
    import numpy as np

    values = np.arange(36, dtype=np.float64).reshape(6, 6) * (i + 1)
    img = {"I;16": lambda: Image.fromarray((values * 1500 % 65536).astype(np.uint16)),
           "F": lambda: Image.fromarray(np.where(values > 30, np.nan, values).astype(np.float32)),
           }.get(mode, lambda: Image.new(mode, (6, 6), (i * 37) % 256 if mode in ("L", "P") else None))()
    out = BytesIO()
    img.save(out, fmt)
    return out.getvalue()


FILE_KINDS = {"png": lambda i: (f"{i}.png", png(i * 37 % 256)), "corrupt": lambda i: (f"c{i}.png", b"\x89PNG junk"),
              "empty": lambda i: (f"e{i}.jpg", b""), "text": lambda i: (f"t{i}.txt", b"not an image"),
              "nested": lambda i: (f"sub/{i}.png", png(i * 91 % 256)), "hidden": lambda i: (f".h{i}.png", png(1)),
              "16-bit": lambda i: (f"d{i}.png", image_bytes("I;16", i)), "rgba": lambda i: (f"a{i}.png", image_bytes(
                  "RGBA", i)), "la": lambda i: (f"g{i}.png", image_bytes("LA", i)), "palette": lambda i: (
                  f"p{i}.png", image_bytes("P", i)), "cmyk": lambda i: (f"k{i}.jpg", image_bytes("CMYK", i, "JPEG")),
              "float": lambda i: (f"f{i}.tif", image_bytes("F", i, "TIFF"))}


@fuzz()
@given(st.lists(st.lists(st.sampled_from(sorted(FILE_KINDS)), max_size=5), max_size=4), st.booleans())
def test_bad_image_folders(folders, loose_file):
    root = Path(tempfile.mkdtemp(prefix="images-"))
    try:
        for c, kinds in enumerate(folders):
            for i, kind in enumerate(kinds):
                name, raw = FILE_KINDS[kind](i)
                (root / f"class{c}" / name).parent.mkdir(parents=True, exist_ok=True)
                (root / f"class{c}" / name).write_bytes(raw)
            (root / f"class{c}").mkdir(exist_ok=True)
        if loose_file:
            (root / "loose.png").write_bytes(png(9))
        recipe = lnb.Recipe.default().updated({"data.source": "image_folder", "data.root": str(root),
                                               "data.image_size": 8, "data.val_fraction": 0.0,
                                               "data.test_fraction": 0.0})
        build(recipe, "bad data files")
    finally:
        shutil.rmtree(root, ignore_errors=True)
