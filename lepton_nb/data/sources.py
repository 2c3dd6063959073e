"""Dataset sources: each turns a recipe's data section into a `Pool` of raw samples.

A pool is what cleaning and splitting work on: images as a uint8/float tensor, sentences as
strings, tables as a pandas DataFrame, or image files as paths (loaded lazily when too large).
"""

from __future__ import annotations

import gzip
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError, user_path
from ..recipe import DataSection
from .images import STREAMED_NOTE, conversion_note, read_image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
IN_MEMORY_BUDGET_BYTES = 2 * 1024**3


@dataclass
class Pool:
    """Raw samples of one dataset before cleaning, splitting and fitting."""

    kind: str  # image | tabular | text
    inputs: Any  # Tensor [N,C,H,W] | list[str] | pandas.DataFrame | list[Path]
    labels: np.ndarray  # int64 class indices
    classes: list[str]
    fixed_test: Pool | None = None  # an official test split kept apart (official_split 'standard')
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> Pool:
        idx = np.asarray(idx, dtype=np.int64)
        if isinstance(self.inputs, torch.Tensor):
            inputs: Any = self.inputs[torch.from_numpy(idx)]
        elif hasattr(self.inputs, "iloc"):
            inputs = self.inputs.iloc[idx].reset_index(drop=True)
        else:
            inputs = [self.inputs[i] for i in idx]
        return Pool(self.kind, inputs, self.labels[idx], self.classes, None, dict(self.info))


# --------------------------------------------------------------------------------------
# Bundled scikit-learn datasets


def load_digits_pool() -> Pool:
    """scikit-learn's 1,797 8x8 digits, scaled from 0..16 to [0, 1] floats."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).div_(16.0).unsqueeze(1)
    return Pool("image", x, bunch.target.astype(np.int64), [str(c) for c in bunch.target_names])


def load_sklearn_table(name: str) -> Pool:
    from sklearn import datasets

    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}[name]
    bunch = loader(as_frame=True)
    frame = bunch.data.reset_index(drop=True)
    return Pool("tabular", frame, bunch.target.to_numpy().astype(np.int64),
                [str(c) for c in bunch.target_names], info={"target": "target"})


# --------------------------------------------------------------------------------------
# torchvision datasets (MNIST, Fashion-MNIST, CIFAR-10)

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_TV_FOLDER = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
_TV_CLASS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot"]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzip-compressed or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError("data.root", str(path), "is not an IDX file of unsigned bytes (MNIST format); "
                        "the download may be incomplete: delete it and download again")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4).astype(np.int64)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError("data.root", str(path), f"holds {data.size} values, its header says "
                        f"{int(np.prod(dims))}: the file is truncated; delete it and download again")
    return data.reshape(tuple(dims))


def _find_idx(raw_dir: Path, stem: str) -> Path | None:
    for candidate in (raw_dir / stem, raw_dir / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    return None


def _missing_message(source: str, root: Path, split: str) -> str:
    if source == "cifar10":
        folder = root / "cifar-10-batches-py"
        files = "data_batch_1 … data_batch_5" if split == "train" else "test_batch"
    else:
        folder = root / _TV_FOLDER[source] / "raw"
        files = " and ".join(f"{s}.gz" for s in _IDX_FILES[split])
    other = {"train": "test", "test": "train"}[split]
    return (f"the official {split} split is missing: expected {files} in {folder}. "
            f"Set data.download to true to fetch it (needs internet), copy the files there, "
            f"or set data.official_split to '{other}' to use only the {other} files and split them here")


def _load_idx_split(source: str, root: Path, split: str) -> tuple[torch.Tensor, np.ndarray] | None:
    raw_dir = root / _TV_FOLDER[source] / "raw"
    image_file, label_file = (_find_idx(raw_dir, stem) for stem in _IDX_FILES[split])
    if image_file is None or label_file is None:
        return None
    images = read_idx(image_file)
    labels = read_idx(label_file)
    if len(images) != len(labels):
        raise DataError("data.root", str(raw_dir), f"{len(images)} images but {len(labels)} labels: "
                        "the files do not belong together")
    return torch.from_numpy(images.copy()).unsqueeze(1), labels.astype(np.int64)


def _download(source: str, root: Path, split: str) -> None:
    import torchvision

    cls = getattr(torchvision.datasets, _TV_CLASS[source])
    try:
        cls(str(root), train=(split == "train"), download=True)
    except Exception as exc:  # network errors come in many types
        raise DataError("data.download", True, f"downloading {source} into {root} failed ({exc}). "
                        + _missing_message(source, root, split)) from None


def _load_cifar_split(root: Path, split: str) -> tuple[torch.Tensor, np.ndarray] | None:
    import torchvision

    try:
        ds = torchvision.datasets.CIFAR10(str(root), train=(split == "train"), download=False)
    except RuntimeError:
        return None
    x = torch.from_numpy(np.asarray(ds.data)).permute(0, 3, 1, 2).contiguous()
    return x, np.asarray(ds.targets, dtype=np.int64)


def load_torchvision_pool(cfg: DataSection) -> Pool:
    """MNIST / Fashion-MNIST / CIFAR-10 as uint8 tensors, honouring ``official_split``."""
    source, root = cfg.source, user_path(cfg.root, "data.root", DataError)
    wanted = {"standard": ["train", "test"], "train": ["train"], "test": ["test"],
              "all": ["train", "test"]}[cfg.official_split]
    parts: dict[str, tuple[torch.Tensor, np.ndarray]] = {}
    for split in wanted:
        loader = _load_cifar_split if source == "cifar10" else (
            lambda r, s: _load_idx_split(source, r, s))
        part = loader(root, split)
        if part is None and cfg.download:
            _download(source, root, split)
            part = loader(root, split)
        if part is None:
            raise DataError("data.root", str(root), _missing_message(source, root, split))
        parts[split] = part
    classes = {"mnist": [str(i) for i in range(10)], "fashion_mnist": FASHION_CLASSES,
               "cifar10": CIFAR_CLASSES}[source]
    if cfg.official_split == "standard":
        (xtr, ytr), (xte, yte) = parts["train"], parts["test"]
        return Pool("image", xtr, ytr, classes, fixed_test=Pool("image", xte, yte, classes))
    xs = torch.cat([p[0] for p in parts.values()])
    ys = np.concatenate([p[1] for p in parts.values()])
    return Pool("image", xs, ys, classes)


# --------------------------------------------------------------------------------------
# Image folders


def load_image_folder_pool(cfg: DataSection) -> Pool:
    """A folder with one sub-folder of images per class; loaded into memory when it fits."""
    root = user_path(cfg.root, "data.root", DataError)
    if not root.is_dir():
        raise DataError("data.root", str(root), "is not a folder; allowed: a folder with one sub-folder "
                        "per class, e.g. root/cat/001.png, root/dog/002.jpg")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    paths: list[Path] = []
    labels: list[int] = []
    for i, name in enumerate(classes):
        files = sorted(p for p in (root / name).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files and len(classes) >= 2:
            raise DataError("data.root", str(root / name), f"this class folder holds no images; allowed: image "
                            f"files ({', '.join(IMAGE_EXTENSIONS)}) in every class folder, or remove the folder "
                            "(a class without samples cannot be learned or evaluated)")
        paths += files
        labels += [i] * len(files)
    if len(classes) < 2 or not paths:
        raise DataError("data.root", str(root), f"found {len(classes)} class folder(s) and {len(paths)} "
                        f"image(s); allowed: at least 2 sub-folders holding images "
                        f"({', '.join(IMAGE_EXTENSIONS)})")
    size = cfg.image_size
    y = np.asarray(labels, dtype=np.int64)
    if len(paths) * 3 * size * size <= IN_MEMORY_BUDGET_BYTES:
        kinds: Counter = Counter()
        images = load_images(paths, size, kinds)
        return Pool("image", images, y, classes, info={"files": paths, "notes": [conversion_note(kinds)]})
    return Pool("image", paths, y, classes, info={"lazy": True, "image_size": size, "notes": [STREAMED_NOTE]})


def load_image(path: Path, size: int, kinds: Counter | None = None) -> torch.Tensor:
    """One image file as a uint8 [3, size, size] tensor (8-bit RGB by `images`' rule, resized); ``kinds``
    counts the conversion it needed."""
    arr, kind = read_image(path, (size, size))
    if kinds is not None:
        kinds[kind] += 1
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


def load_images(paths: list[Path], size: int, kinds: Counter | None = None) -> torch.Tensor:
    out = torch.empty((len(paths), 3, size, size), dtype=torch.uint8)
    for i, p in enumerate(paths):
        out[i] = load_image(p, size, kinds)
    return out


# --------------------------------------------------------------------------------------
# Tables and text


def load_csv_pool(cfg: DataSection) -> Pool:
    """A CSV table: one target column (default: the last), numeric and categorical features."""
    import pandas as pd

    path = user_path(cfg.path, "data.path", DataError)
    if not path.is_file():
        raise DataError("data.path", str(path), "no such file; allowed: a CSV file with a header row")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError("data.path", str(path), f"cannot be parsed as CSV ({exc})") from None
    if frame.shape[1] < 2:
        raise DataError("data.path", str(path), f"has {frame.shape[1]} column(s); allowed: at least one "
                        "feature column and a target column")
    if len(frame) < 2:
        raise DataError("data.path", str(path), f"has {len(frame)} data row(s) below its header; allowed: a table "
                        "with a header row and at least 2 rows")
    _check_finite_cells(frame, path)
    target = cfg.target or frame.columns[-1]
    if target not in frame.columns:
        raise DataError("data.target", cfg.target, f"no such column; allowed: {', '.join(map(str, frame.columns))}")
    y_raw = frame[target]
    keep = y_raw.notna().to_numpy()
    dropped = int((~keep).sum())
    frame, y_raw = frame[keep].reset_index(drop=True), y_raw[keep].reset_index(drop=True)
    classes_arr, y = np.unique(y_raw.astype(str).to_numpy(), return_inverse=True)
    if len(classes_arr) < 2:
        raise DataError("data.target", target, f"has {len(classes_arr)} distinct value(s); allowed: a "
                        "column with at least 2 classes")
    if len(classes_arr) > 0.5 * len(y) and len(y) > 20:
        raise DataError("data.target", target, f"has {len(classes_arr)} distinct values in {len(y)} rows: "
                        "it looks continuous, but lepton_nb trains classifiers; choose a class column")
    features = frame.drop(columns=[target])
    return Pool("tabular", features, y.astype(np.int64), [str(c) for c in classes_arr],
                info={"target": str(target), "rows_without_target": dropped})


def _check_finite_cells(frame: Any, path: Path) -> None:
    """Refuse ``inf``/``-inf`` cells (empty cells are fine: they are imputed or dropped), naming row and column."""
    numeric = frame.select_dtypes(include="number")
    bad = ~np.isfinite(numeric.to_numpy(dtype=np.float64)) & numeric.notna().to_numpy(dtype=bool)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        raise DataError("data.path", f"{path}:{row + 2}", f"column {str(numeric.columns[col])!r} holds "
                        f"{numeric.iat[row, col]} (line {row + 2}); allowed: finite numbers, or an empty cell "
                        "for a missing value")


def read_text_file(path: Path, field: str = "data.path") -> str:
    """A UTF-8 text file's contents (a byte-order mark is skipped); any other encoding is refused, not guessed."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(field, f"{path}:{line}", f"is not UTF-8: byte 0x{raw[exc.start]:02x} on line {line} "
                        "(e.g. a file saved as Windows-1252/Latin-1); allowed: UTF-8 text, re-save the file "
                        "as UTF-8") from None


def load_text_tsv_pool(cfg: DataSection) -> Pool:
    """Sentences with labels, one per line: ``sentence<TAB>label``."""
    path = user_path(cfg.path, "data.path", DataError)
    if not path.is_file():
        raise DataError("data.path", str(path), "no such file; allowed: a text file of lines "
                        "'sentence<TAB>label', e.g. imdb_labelled.txt")
    texts: list[str] = []
    raw_labels: list[str] = []
    with io.StringIO(read_text_file(path), newline=None) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            sentence, sep, label = line.rpartition("\t")
            if not sep or not label.strip() or not sentence.strip():
                raise DataError("data.path", f"{path}:{lineno}", f"line {lineno} reads {line[:50]!r}; "
                                "allowed: 'sentence<TAB>label'")
            texts.append(sentence.strip())
            raw_labels.append(label.strip())
    classes_arr, y = np.unique(np.asarray(raw_labels), return_inverse=True)
    if len(classes_arr) < 2:
        raise DataError("data.path", str(path), f"holds {len(classes_arr)} label(s); allowed: at least 2")
    return Pool("text", texts, y.astype(np.int64), [str(c) for c in classes_arr])


# keyed by the names `lepton_nb.recipe.SOURCES` lists (one test checks they agree)
LOADERS: dict[str, Callable[[DataSection], Pool]] = {
    "digits": lambda cfg: load_digits_pool(),
    "mnist": load_torchvision_pool,
    "fashion_mnist": load_torchvision_pool,
    "cifar10": load_torchvision_pool,
    "image_folder": lambda cfg: load_image_folder_pool(cfg),
    "csv": lambda cfg: load_csv_pool(cfg),
    "breast_cancer": lambda cfg: load_sklearn_table("breast_cancer"),
    "wine": lambda cfg: load_sklearn_table("wine"),
    "text_tsv": lambda cfg: load_text_tsv_pool(cfg),
}


def load_pool(cfg: DataSection) -> Pool:
    """The pool of ``cfg.source`` (the recipe validated its name)."""
    return LOADERS[cfg.source](cfg)
