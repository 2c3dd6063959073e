"""A self-contained HTML report of a study: summary, best values, importances, figures, every trial."""

from __future__ import annotations

import base64
import html
from typing import Any, Protocol

import pandas as pd

from ..artifacts.report import CSS
from ..plotting import new_figure, to_png
from ..recipe import Recipe

IMPORTANCE_METHOD = "fANOVA"  # as `result.IMPORTANCE_METHOD` (this module draws a study it does not import)


class Study(Protocol):
    """What the report shows of a study (a `lepton_nb.search.Study`)."""

    recipe: Recipe
    folder: Any
    name: str
    direction: str
    params: list[str]
    best_trial: Any
    trials: pd.DataFrame

    def counts(self) -> dict[str, int]: ...
    def plot_history(self, ax: Any) -> None: ...
    def plot_importances(self, ax: Any) -> None: ...
    def plot_parallel(self, ax: Any) -> None: ...
    def plot_slices(self, fig: Any) -> None: ...


def _img(fig: object, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(to_png(fig)).decode()}'>"


def study_report_html(study: Study) -> str:
    """The report's HTML (figures embedded as PNG; opens offline)."""
    s = study.recipe.search
    counts = study.counts()
    best = study.best_trial
    parts = [f"<h1>Study {html.escape(study.name)}</h1>",
             f"<p class='muted'>{html.escape(study.recipe.summary())} · sampler {s.sampler} · pruner {s.pruner} · "
             f"{study.direction} {html.escape(s.objective)}" + (f" ({s.cv_folds}-fold CV)" if s.cv_folds else "") +
             "</p>",
             "<p>" + ", ".join(f"{n} {html.escape(k)}" for k, n in sorted(counts.items())) + "</p>"]
    if best is not None:
        shown = {k: f"{v:.4g}" if isinstance(v, float) else str(v) for k, v in best.params.items()}
        rows = "".join(f"<tr><td class='l'>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                       for k, v in shown.items())
        run = best.user_attrs.get("run_folder", "")
        parts += [f"<h2>Best: {html.escape(s.objective)} {best.value:.4f} (trial {best.number})</h2>",
                  f"<table><tr><th class='l'>field</th><th>value</th></tr>{rows}</table>",
                  f"<p class='muted'>run folder: {html.escape(run)}</p>" if run else "",
                  "<p class='muted'>best_recipe.json in the study folder holds the whole recipe: "
                  "<code>lepton-nb run best_recipe.json</code></p>"]
    fig = new_figure(11, 3.2)
    ax1, ax2 = fig.subplots(1, 2)
    study.plot_history(ax1)
    study.plot_importances(ax2)
    parts += [f"<h2>History and importances ({IMPORTANCE_METHOD})</h2>",
              _img(fig, f"optimization history and parameter importances ({IMPORTANCE_METHOD})")]
    fig = new_figure(11, 3.2)
    study.plot_parallel(fig.subplots())
    parts += ["<h2>Parallel coordinates</h2>", _img(fig, "parallel coordinates")]
    fig = new_figure(min(11, 2.8 * max(1, len(study.params)) + 1), 2.8)
    study.plot_slices(fig)
    parts += ["<h2>Slices</h2>", _img(fig, "slice plots")]
    table = study.trials.drop(columns=["run_folder"]).to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}")
    parts += ["<h2>Trials</h2>", table,
              f"<p class='muted'>Storage: {html.escape(study.folder.path.as_posix())} · open the database in "
              f"<code>optuna-dashboard</code> with the storage URL in study.json</p>"]
    body = "\n".join(p for p in parts if p)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Study {html.escape(study.name)}</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>")
