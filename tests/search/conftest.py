"""Small searches: bundled digits, few samples, one or two epochs, no attribution probes."""

from __future__ import annotations

import lepton_nb as lnb
from tests.conftest import tiny_recipe

SPACE = {"train.lr": {"log_uniform": [1e-3, 3e-2]}, "model.width": {"choice": [4, 8]}}


def search_recipe(space=None, **changes) -> lnb.Recipe:
    base = {"data.limit": 300, "train.epochs": 2, "interpret.enabled": False, "train.checkpoint": False,
            "search.space": space or SPACE, "search.trials": 3, "search.startup_trials": 1}
    base.update({k.replace("__", "."): v for k, v in changes.items()})
    return tiny_recipe(**{k.replace(".", "__"): v for k, v in base.items()})
