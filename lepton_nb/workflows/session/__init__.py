"""Sessions: one run at a time in the background, in a thread (`ThreadRunner`) or the warm training process
(`ProcessRunner`), behind one `Session`; the typed `protocol` between kernel and process.

Names load on first use (PEP 562): ``launch`` and ``protocol`` import no torch, so a kernel can start the
training process before it imports torch itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Runner, Session
    from .open import WorkerSession, open_session
    from .process import ProcessRunner
    from .thread import ThreadRunner

_LAZY = {"Runner": "core", "Session": "core", "WorkerSession": "open", "open_session": "open",
         "ProcessRunner": "process", "ThreadRunner": "thread"}

__all__ = ["ProcessRunner", "Runner", "Session", "ThreadRunner", "WorkerSession", "open_session"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
