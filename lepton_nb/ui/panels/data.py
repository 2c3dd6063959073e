"""The Data tab: source, splits, cleaning summary, sample grid, normalization statistics of the train split."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import torch

from ...data import DataBundle, compute_stats
from ...data.normalize import folder_stats
from ...errors import RecipeError
from ...interpret.probes import probe_indices
from ...plotting import new_figure, plot_histograms, to_png
from ...recipe import DATA_KINDS, NormalizeSection, Recipe
from ...recipe.names import default_name, made_up_names
from ..access import Picture
from ..context import StudioContext
from ..forms import FORM_COLUMN, SIDE_COLUMN, RecipeForm, button
from ..render import MUTED, error_html, sample_view, set_png, table_html
from ..tasks import Latest
from .base import EVERYTHING, Tab


class FollowingName:
    """The run's name follows the data and the model while it is one nobody chose (a preset's, ``run``, or the
    one it followed last): a csv run is never listed as "digits-cnn". A name the user typed stays."""

    def __init__(self, form: RecipeForm):
        self.controls = form.controls()
        self.last = self.made_up()
        for key in ("data.source", "model.arch"):
            self.controls[key].widget.observe(self._changed, names="value")

    def made_up(self) -> str:
        return default_name(self.controls["data.source"].get(), self.controls["model.arch"].get())

    def _changed(self, _change: Any) -> None:
        name, new = self.controls["name"], self.made_up()
        if name.get() in {self.last, *made_up_names()}:
            name.set(new)
        self.last = new


class DataPanel(Tab):
    """Source and splits, cleaning summary, sample grid, normalization statistics and histogram."""

    title, key = "Data", "data"

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        form = ctx.form
        self.naming = FollowingName(form)
        self.status = W.HTML()
        self.summary = W.HTML()
        self.samples_html = W.HTML()
        self.samples = Picture(format="png", layout=W.Layout(display="none"))
        self.stats = W.HTML()
        self.hist = Picture(format="png", layout=W.Layout(display="none"))
        self.reload = button("Reload data", icon="refresh", tooltip="Load the data section again")
        self.recompute = button("Recompute statistics", icon="calculator",
                                tooltip="Recompute normalization statistics on the train split")
        self.reload.on_click(lambda _: ctx.load_data())
        self.recompute.on_click(lambda _: self.show_normalization())
        self.norm_task = Latest(self._norm_work, self._norm_done, self._norm_error, delay=0.2, name="lepton_nb-norm")
        norm_title = W.HTML("<h4>Normalization</h4>")
        form.follow(norm_title, "normalize")  # text has none: its fields and title are hidden together
        left = W.VBox([W.HTML("<h4>Source and splits</h4>"), form.sections["data"].box,
                       norm_title, form.sections["normalize"].box],
                      layout=W.Layout(flex=FORM_COLUMN))
        right = W.VBox([W.HBox([self.reload, self.recompute]), self.status, self.summary,
                        W.HTML("<h4>Samples</h4>"), self.samples, self.samples_html,
                        W.HTML("<h4>Normalization statistics (train split only)</h4>"), self.stats, self.hist],
                       layout=W.Layout(flex=SIDE_COLUMN))
        self.box = W.HBox([left, right], layout=W.Layout(flex_flow="row wrap"))

    def loading(self) -> None:
        self.status.value = f"<span style='{MUTED}'>loading data…</span>"

    def failed(self, exc: BaseException, tb: str) -> None:
        """The data did not load: the error, and nothing left on screen that describes other data."""
        self.norm_task.cancel()
        if isinstance(exc, RecipeError):  # the problems of the data section, if any
            exc = RecipeError([p for p in exc.problems if p.field.startswith("data")] or exc.problems)
        with self.status.hold_sync():
            self.status.value = error_html(exc, tb) + (
                f"<p style='{MUTED}'>No data is loaded: fix the data section, and ▶ Start trains once it "
                "loads.</p>")
            self.summary.value = self.samples_html.value = self.stats.value = ""
            set_png(self.samples, None, "")
            set_png(self.hist, None, "")

    def show(self, data: DataBundle) -> None:
        sizes = data.sizes()
        self.status.value = f"<span style='{MUTED}'>{html.escape(data.describe())}</span>"
        steps = [{"step": s.name, "removed": s.removed, "detail": s.detail} for s in data.cleaning.steps]
        self.summary.value = (f"<b>Cleaning</b>: {data.cleaning.before} → {data.cleaning.after} samples"
                              + table_html(steps, left=("step", "detail"))
                              + "<b>Splits</b>: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
        idx = probe_indices(data.train.y, 16)
        titles = [data.classes[int(data.train.y[i])] for i in idx]
        text, png = sample_view(data, "train", idx, titles)
        self.samples_html.value = text
        set_png(self.samples, png, f"{len(idx)} training samples, with their classes: {', '.join(titles)}")
        self.show_normalization()

    def tasks(self) -> tuple[Latest, ...]:
        return (self.norm_task,)

    def refresh(self, recipe: Recipe | None, changed: frozenset[str] = EVERYTHING) -> None:
        """Loading, loaded (the data and its statistics) or failed (the data section's problems); a new
        normalization redraws the statistics."""
        loader = self.ctx.loader
        if "loading" in changed:
            self.loading()
        elif "failed" in changed and loader.error is not None:
            self.failed(loader.error, loader.traceback)
        elif "loaded" in changed and self.ctx.data is not None:
            self.show(self.ctx.data)
        elif "normalize" in changed:
            self.show_normalization()

    def show_normalization(self) -> None:
        data = self.ctx.data
        if data is not None:
            self.norm_task(data, self.ctx.form.values()["normalize"])

    def _norm_work(self, data: DataBundle, normalize: dict[str, Any]) -> tuple[str, bytes | None]:
        if DATA_KINDS[data.kind].tokens:
            return f"<p style='{MUTED}'>Text is fed to the model as word ids: no normalization.</p>", None
        cfg = Recipe.from_dict({"normalize": normalize}).normalize if normalize else NormalizeSection()
        x = data.train.x
        pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
        if data.lazy:  # a streamed image folder: the statistics training uses, from a seeded sample of files
            stats = folder_stats(x, data.input_shape[-1], cfg, int(self.ctx.form.values()["data"]["seed"]))
            before = data.raw("train", pick[:256].numpy())
        else:
            scale = data.value_scale if DATA_KINDS[data.kind].pixels else 1.0
            stats = compute_stats(x, cfg, scale)
            before = x[pick[:2000]].float() / scale
        names = data.feature_names or [f"channel {i}" for i in range(len(stats.mean))]
        rows = [{"": names[i], "mean": stats.mean[i], "std": stats.std[i], "min": stats.min[i], "max": stats.max[i]}
                for i in range(min(len(names), 30))]
        after = stats.apply(before)
        fig = new_figure(5.5, 2.4)
        plot_histograms(fig.subplots(), before.numpy(), after.numpy())
        note = (f"<p style='{MUTED}'>method <b>{html.escape(stats.method)}</b>, from {stats.count} train samples; "
                f"validation and test data are scaled with these values, never measured.</p>")
        return note + table_html(rows, left=("",)), to_png(fig)

    def _norm_done(self, result: tuple[str, bytes | None]) -> None:
        self.stats.value, png = result
        set_png(self.hist, png, "histograms of the train split's values before and after normalization; the table "
                "gives each channel's mean, standard deviation, minimum and maximum")

    def _norm_error(self, exc: BaseException, tb: str) -> None:
        self.stats.value = error_html(exc, tb)
