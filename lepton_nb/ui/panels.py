"""The studio's configuration panels: Data, Augmentation, Model.

Each panel reads the studio's recipe form and its loaded data; heavy work (loading, rendering)
runs in background threads through `Latest`, which keeps only the newest result.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import numpy as np
import torch

from ..data import DataBundle, compute_stats
from ..models import build_model, count_parameters, summarize
from ..plotting import new_figure, plot_histograms, to_png
from ..recipe import AUGMENT_OPS, Recipe
from .forms import button
from .render import MUTED, image_grid_png, sample_view, table_html
from .tasks import Latest

if TYPE_CHECKING:
    from .studio import Studio


def error_html(exc: BaseException, tb: str = "") -> str:
    from ..errors import LeptonError
    from ..recipe import RecipeError

    text = html.escape(str(exc) if isinstance(exc, (LeptonError, RecipeError)) else f"{type(exc).__name__}: {exc}")
    details = (f"<details><summary>traceback</summary><pre style='font-size:11px'>{html.escape(tb)}</pre></details>"
               if tb and not isinstance(exc, (LeptonError, RecipeError)) else "")
    return f"<div class='lnb-error' style='color:#b71c1c;white-space:pre-wrap'>⚠ {text}</div>{details}"


def set_png(image: W.Image, png: bytes | None) -> None:
    """Show a PNG at its natural width (never stretched by the layout), or hide the image."""
    with image.hold_sync():
        image.value = png or b""
        if png and png[:8] == b"\x89PNG\r\n\x1a\n":
            image.width = str(int.from_bytes(png[16:20], "big"))  # IHDR width
        image.layout.display = "" if png else "none"


class DataPanel:
    """Source and splits, cleaning summary, sample grid, normalization statistics and histogram."""

    def __init__(self, studio: Studio):
        self.studio = studio
        form = studio.form
        self.status = W.HTML()
        self.summary = W.HTML()
        self.samples_html = W.HTML()
        self.samples = W.Image(format="png", layout=W.Layout(display="none"))
        self.stats = W.HTML()
        self.hist = W.Image(format="png", layout=W.Layout(display="none"))
        self.reload = button("Reload data", icon="refresh", tooltip="Load the data section again")
        self.recompute = button("Recompute statistics", icon="calculator",
                                tooltip="Recompute normalization statistics on the train split")
        self.reload.on_click(lambda _: studio.load_data())
        self.recompute.on_click(lambda _: self.show_normalization())
        self.norm_task = Latest(self._norm_work, self._norm_done, self._norm_error, delay=0.2, name="lepton_nb-norm")
        left = W.VBox([W.HTML("<h4>Source and splits</h4>"), form.sections["data"].box,
                       W.HTML("<h4>Normalization</h4>"), form.sections["normalize"].box],
                      layout=W.Layout(flex="1 1 55%"))
        right = W.VBox([W.HBox([self.reload, self.recompute]), self.status, self.summary,
                        W.HTML("<h4>Samples</h4>"), self.samples, self.samples_html,
                        W.HTML("<h4>Normalization statistics (train split only)</h4>"), self.stats, self.hist],
                       layout=W.Layout(flex="1 1 45%"))
        self.box = W.HBox([left, right], layout=W.Layout(flex_flow="row wrap"))

    def loading(self) -> None:
        self.status.value = f"<span style='{MUTED}'>loading data…</span>"

    def failed(self, exc: BaseException, tb: str) -> None:
        self.status.value = error_html(exc, tb)

    def show(self, data: DataBundle) -> None:
        sizes = data.sizes()
        self.status.value = f"<span style='{MUTED}'>{html.escape(data.describe())}</span>"
        steps = [{"step": s.name, "removed": s.removed, "detail": s.detail} for s in data.cleaning.steps]
        self.summary.value = (f"<b>Cleaning</b>: {data.cleaning.before} → {data.cleaning.after} samples"
                              + table_html(steps, left=("step", "detail"))
                              + "<b>Splits</b>: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
        idx = _one_per_class(data.train.y, 16)
        titles = [data.classes[int(data.train.y[i])] for i in idx]
        text, png = sample_view(data, "train", idx, titles)
        self.samples_html.value = text
        set_png(self.samples, png)
        self.show_normalization()

    def show_normalization(self) -> None:
        data = self.studio.data
        if data is not None:
            self.norm_task(data, self.studio.form.values()["normalize"])

    def _norm_work(self, data: DataBundle, normalize: dict[str, Any]) -> tuple[str, bytes | None]:
        from ..recipe import NormalizeSection

        if data.kind == "text":
            return f"<p style='{MUTED}'>Text is fed to the model as word ids: no normalization.</p>", None
        cfg = Recipe.from_dict({"normalize": normalize}).normalize if normalize else NormalizeSection()
        x = data.train.x
        sample = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:2000]]
        stats = compute_stats(x, cfg, data.value_scale if data.kind == "image" else 1.0)
        names = data.feature_names or [f"channel {i}" for i in range(len(stats.mean))]
        rows = [{"": names[i], "mean": stats.mean[i], "std": stats.std[i], "min": stats.min[i], "max": stats.max[i]}
                for i in range(min(len(names), 30))]
        before = sample.float() / (data.value_scale if data.kind == "image" else 1.0)
        after = stats.apply(before)
        fig = new_figure(5.5, 2.4)
        plot_histograms(fig.subplots(), before.numpy(), after.numpy())
        note = (f"<p style='{MUTED}'>method <b>{html.escape(stats.method)}</b>, from {stats.count} train samples; "
                f"validation and test data are scaled with these values, never measured.</p>")
        return note + table_html(rows, left=("",)), to_png(fig)

    def _norm_done(self, result: tuple[str, bytes | None]) -> None:
        self.stats.value, png = result
        set_png(self.hist, png)

    def _norm_error(self, exc: BaseException, tb: str) -> None:
        self.stats.value = error_html(exc, tb)


def _one_per_class(labels: torch.Tensor, n: int) -> list[int]:
    """Indices of the first samples of each class in turn: a grid that shows every class."""
    y = labels.numpy()
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    out: list[int] = []
    depth = 0
    while len(out) < min(n, len(y)):
        added = False
        for idx in by_class:
            if depth < len(idx) and len(out) < n:
                out.append(int(idx[depth]))
                added = True
        if not added:
            break
        depth += 1
    return out


class AugmentPanel:
    """Toggle and tune ops; a seeded preview of augmented variants refreshes as parameters change."""

    VARIANTS = 3

    def __init__(self, studio: Studio):
        self.studio = studio
        self.preview_seed = 0
        self.rows: dict[str, tuple[W.Checkbox, dict[str, W.Widget], W.Box]] = {}
        rows = []
        for name, spec in AUGMENT_OPS.items():
            check = W.Checkbox(value=False, description=name.replace("_", " "), indent=False,
                               layout=W.Layout(width="150px"), tooltip=spec.help)
            sliders: dict[str, W.Widget] = {}
            for pname, p in spec.params.items():
                cls = W.IntSlider if p.integer else W.FloatSlider
                kwargs = {} if p.integer else {"step": (p.max - p.min) / 100, "readout_format": ".2f"}
                slider = cls(value=p.default, min=p.min, max=p.max, description=pname, tooltip=p.help,
                             continuous_update=False, style={"description_width": "70px"},
                             layout=W.Layout(width="260px"), **kwargs)
                sliders[pname] = slider
            help_ = W.HTML(f"<span style='{MUTED};font-size:11px'>{html.escape(spec.help)}</span>")
            row = W.VBox([W.HBox([check, help_]), W.HBox(list(sliders.values()), layout=W.Layout(
                flex_flow="row wrap", margin="0 0 0 24px"))], layout=W.Layout(margin="2px 0"))
            self.rows[name] = (check, sliders, row)
            rows.append(row)
            for w in [check, *sliders.values()]:
                w.observe(self._changed, names="value")
        self.resample = button("Resample", icon="random", tooltip="Draw new random variants")
        self.resample.on_click(self._resample)
        self.preview = W.Image(format="png", layout=W.Layout(display="none"))
        self.preview_html = W.HTML()
        self.status = W.HTML()
        self.task = Latest(self._render, self._rendered, self._failed, delay=0.25, name="lepton_nb-augment")
        studio.form.add_extra("augment.ops", self.ops, self.set_ops)
        self.set_ops(studio.form.recipe.augment.ops)
        left = W.VBox([studio.form.sections["augment"].box, *rows], layout=W.Layout(flex="1 1 50%"))
        right = W.VBox([W.HTML("<h4>Preview</h4><p style='font-size:11px;color:var(--jp-ui-font-color2,#666)'>"
                               "Top row: original samples; below: random variants as training sees them "
                               "(before normalization). Seeded: the same settings show the same variants.</p>"),
                        self.resample, self.status, self.preview, self.preview_html], layout=W.Layout(flex="1 1 50%"))
        self.box = W.HBox([left, right], layout=W.Layout(flex_flow="row wrap"))

    def ops(self) -> list[dict[str, Any]]:
        out = []
        for name, (check, sliders, _) in self.rows.items():
            if check.value:
                out.append({"op": name, **{k: s.value for k, s in sliders.items()}})
        return out

    def set_ops(self, ops: list[dict[str, Any]]) -> None:
        by_name = {op["op"]: op for op in ops}
        for name, (check, sliders, _) in self.rows.items():
            op = by_name.get(name)
            check.value = op is not None
            for k, s in sliders.items():
                if op is not None and k in op:
                    s.value = op[k]

    def show_for_kind(self, kind: str) -> None:
        """Only the ops that fit the data kind are offered; unfitting ones are switched off."""
        for name, (check, _, row) in self.rows.items():
            fits = kind in AUGMENT_OPS[name].kinds
            row.layout.display = "" if fits else "none"
            if not fits and check.value:
                check.value = False

    def _changed(self, _change: Any) -> None:
        self.studio.form.changed()
        self.refresh()

    def _resample(self, _button: Any) -> None:
        self.preview_seed += 1
        self.refresh()

    def refresh(self) -> None:
        data = self.studio.data
        if data is not None:
            self.status.value = f"<span style='{MUTED}'>rendering…</span>"
            self.task(data, self.ops(), self.preview_seed)

    def _render(self, data: DataBundle, ops: list[dict[str, Any]], seed: int) -> tuple[str, bytes | None]:
        idx = _one_per_class(data.train.y, 8)
        aug = data.augmenter(ops)
        g = torch.Generator().manual_seed(seed)
        raw = data.raw("train", torch.as_tensor(idx))
        if data.kind == "image":
            variants = [raw] + [aug(raw.clone(), g) if ops else raw for _ in range(self.VARIANTS)]
            grid = torch.cat(variants).clamp(0, 1).numpy()
            titles = [data.classes[int(data.train.y[i])] for i in idx] + [""] * (len(grid) - len(idx))
            return "", image_grid_png(grid, titles, cols=len(idx))
        if data.kind == "text":
            rows = []
            for k in range(min(4, len(idx))):
                rows.append({"variant": "original", "sentence": " ".join(data.vocab.decode(raw[k]))})
                for v in range(self.VARIANTS):
                    ids = aug(raw[k:k + 1].clone(), g)[0] if ops else raw[k]
                    rows.append({"variant": f"#{v + 1}", "sentence": " ".join(data.vocab.decode(ids))})
            return table_html(rows, left=("variant", "sentence")), None
        x = data.prepare(raw)
        rows = []
        for k in range(min(4, len(idx))):
            rows.append({"variant": "original", **_features(data, x[k])})
            for v in range(self.VARIANTS):
                rows.append({"variant": f"#{v + 1}", **_features(data, aug(x[k:k + 1].clone(), g)[0] if ops else x[k])})
        return f"<p style='{MUTED}'>standardized feature values</p>" + table_html(rows, left=("variant",)), None

    def _rendered(self, result: tuple[str, bytes | None]) -> None:
        self.status.value = ""
        self.preview_html.value, png = result
        set_png(self.preview, png)

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.status.value = error_html(exc, tb)


def _features(data: DataBundle, row: torch.Tensor) -> dict[str, float]:
    return {n: round(float(v), 3) for n, v in list(zip(data.feature_names, row.tolist()))[:6]}


class ModelPanel:
    """Architecture and its parameters, parameter count and a compact layer summary."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.info = W.HTML()
        self.task = Latest(self._summarize, self._done, self._failed, delay=0.2, name="lepton_nb-model")
        left = W.VBox([W.HTML("<h4>Architecture</h4>"), studio.form.sections["model"].box],
                      layout=W.Layout(flex="1 1 50%"))
        right = W.VBox([W.HTML("<h4>Summary</h4>"), self.info], layout=W.Layout(flex="1 1 50%"))
        self.box = W.HBox([left, right], layout=W.Layout(flex_flow="row wrap"))

    def refresh(self, recipe: Recipe | None) -> None:
        data = self.studio.data
        if recipe is not None and data is not None and data.source == recipe.data.source:
            self.task(recipe, data)

    def _summarize(self, recipe: Recipe, data: DataBundle) -> str:
        model = build_model(recipe.model, data.spec(), seed=0)
        rows = summarize(model, data.input_shape, torch.long if data.kind == "text" else torch.float32)
        table = [{"layer": r.name, "type": r.kind, "output": "×".join(map(str, r.output_shape[1:])),
                  "params": f"{r.params:,}"} for r in rows]
        return (f"<p><b>{count_parameters(model):,}</b> parameters · input {tuple(data.input_shape)} → "
                f"{len(data.classes)} classes</p>" + table_html(table, left=("layer", "type")))

    def _done(self, text: str) -> None:
        self.info.value = text

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.info.value = error_html(exc, tb)
