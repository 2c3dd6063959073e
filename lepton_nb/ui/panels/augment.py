"""The Augmentation tab: toggle and tune ops, with a seeded preview of augmented variants."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import torch

from ...data import DataBundle
from ...interpret.probes import probe_indices
from ...spec import AUGMENT_OPS
from ..context import StudioContext
from ..forms import button
from ..render import MUTED, error_html, image_grid_png, set_png, table_html
from ..tasks import Latest


def _features(data: DataBundle, row: torch.Tensor) -> dict[str, float]:
    return {n: round(float(v), 3) for n, v in list(zip(data.feature_names, row.tolist()))[:6]}


class AugmentPanel:
    """Toggle and tune ops; a seeded preview of augmented variants refreshes as parameters change."""

    VARIANTS = 3

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
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
        ctx.form.add_extra("augment.ops", self.ops, self.set_ops)
        self.set_ops(ctx.form.recipe.augment.ops)
        left = W.VBox([ctx.form.sections["augment"].box, *rows], layout=W.Layout(flex="1 1 50%"))
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
        self.ctx.form.changed()
        self.refresh()

    def _resample(self, _button: Any) -> None:
        self.preview_seed += 1
        self.refresh()

    def refresh(self) -> None:
        data = self.ctx.data
        if data is not None:
            self.status.value = f"<span style='{MUTED}'>rendering…</span>"
            self.task(data, self.ops(), self.preview_seed)

    def _render(self, data: DataBundle, ops: list[dict[str, Any]], seed: int) -> tuple[str, bytes | None]:
        idx = probe_indices(data.train.y, 8)
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
