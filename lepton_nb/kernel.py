"""Where this process runs: inside a Jupyter kernel or not, asked without importing IPython.

Both a run's progress bar (`lepton_nb.training.callbacks`: stdout in a kernel) and the training process's
prestart (`lepton_nb.workflows.session.launch`: only in a kernel) ask it, so it lives at the bottom.
"""

from __future__ import annotations

import sys


def in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython already loaded, with a kernel); never imports IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and getattr(shell, "kernel", None) is not None
