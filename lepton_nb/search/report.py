"""A self-contained HTML report of a study: summary, best values, importances, figures, every trial.

The optimization history and the importances are interactive (plotly.js, `lepton_nb.plotting.page`: hover a
trial for its value, zoom); parallel coordinates and slices stay pictures (plotly's parallel-coordinates trace
is not in the partial bundle the pages embed)."""

from __future__ import annotations

import base64
import html
from typing import Any, Protocol

import pandas as pd

from ..plotting import new_figure, to_png
from ..plotting.interactive import bars_figure, study_history_figure
from ..plotting.page import chart, document
from ..recipe import Recipe
from .plots import best_so_far

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
    def importances(self) -> dict[str, float]: ...
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
    parts += [f"<h2>History and importances ({IMPORTANCE_METHOD})</h2>", history_charts(study)]
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
    return document(f"Study {study.name}", "\n".join(p for p in parts if p))


def history_charts(study: Study) -> str:
    """The trials' values with the best so far, and the fields' importances: interactive, each with words."""
    s, trials = study.recipe.search, study.trials
    done = trials[trials.state == "complete"].sort_values("trial")
    best = best_so_far(done.value.to_numpy(float), study.direction) if len(done) else []
    counts = ", ".join(f"{n} {k}" for k, n in sorted(study.counts().items()))
    alt = f"Optimization history of {len(trials)} trials ({counts})"
    if study.best_trial is not None:
        alt += f"; best {s.objective} {study.best_trial.value:.4g} at trial {study.best_trial.number}"
    parts = [chart(study_history_figure(trials, s.objective, study.direction, list(best)), alt + ".")]
    importances = sorted(study.importances().items(), key=lambda kv: -kv[1])
    if importances:
        fig = bars_figure([k for k, _ in importances], [v for _, v in importances],
                          f"parameter importances ({IMPORTANCE_METHOD})", "importance")
        parts.append(chart(fig, f"Parameter importances ({IMPORTANCE_METHOD}): "
                           + ", ".join(f"{k} {v:.2f}" for k, v in importances) + "."))
    else:
        parts.append("<p class='muted'>Parameter importances need two completed trials with different values.</p>")
    return "<div class='lnb-row'>" + "".join(parts) + "</div>"
