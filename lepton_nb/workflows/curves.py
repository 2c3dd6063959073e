"""`lnb.robustness`: accuracy-vs-ε curves of one or several runs, kept with each run.

The curve itself is computed in ``robust`` (a building block that knows no run folders); this
workflow remembers it on the run (``run.extras["robustness"]``), writes ``robustness.json`` into
the run's folder and refreshes its HTML report, so the report a student hands in shows the curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..artifacts import Run
from ..artifacts.run_folder import RunFolder
from ..robust import RobustnessCurve, robustness_curve
from ..robust.curve import Attackable

DEFAULT_EPS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)


def robustness(runs: Attackable | Sequence[Attackable], eps: Sequence[float] = DEFAULT_EPS, *, save: bool = True,
               **kwargs: Any) -> list[RobustnessCurve]:
    """Accuracy-vs-ε curves (FGSM, PGD and random noise by default) of one run or of several, with the sanity
    checks against gradient masking; compare them with ``lnb.robust.plot_robustness(ax, curves)``.

    ``kwargs`` go to `lepton_nb.robust.robustness_curve` (``methods``, ``split``, ``n``, ``steps``, ``seed``).
    With ``save``, a run with a folder keeps its newest curve in ``robustness.json`` and in its report.
    """
    many = list(runs) if isinstance(runs, (list, tuple)) else [runs]
    curves = [robustness_curve(r, eps, **kwargs) for r in many]
    for run, curve in zip(many, curves):
        remember(run, curve, save)
    return curves


def remember(run: Any, curve: RobustnessCurve, save: bool = True) -> Path | None:
    """Keep ``curve`` on the run; with ``save``, in its folder and report too. Returns the file written."""
    extras = getattr(run, "extras", None)
    if isinstance(extras, dict):
        extras["robustness"] = curve.to_dict()
    folder = getattr(run, "dir", None)
    if not save or not isinstance(run, Run) or folder is None or not Path(folder).is_dir():
        return None
    path = RunFolder(folder).write_json("robustness.json", curve.to_dict())
    run.report()
    return path


__all__ = ["DEFAULT_EPS", "remember", "robustness"]
