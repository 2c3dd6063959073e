"""A `Runner` that trains in a background thread of this process (a notebook server that cannot start processes,
or the user's own ``nn.Module`` object, which cannot travel to another process)."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from ...data import DataBundle
from ...recipe import Recipe
from ...training.control import Control
from ...training.observers import Observers
from ...warmup import warm_up_in_background
from .host import Host
from .jobs import call_job, run_job
from .protocol import Command, RunJob


class ThreadRunner:
    """Runs each job in a new thread; the trainer shares the session's control, so commands need no sending."""

    def __init__(self) -> None:
        self.session: Host | None = None
        self.thread: threading.Thread | None = None

    def bind(self, session: Host) -> None:
        self.session = session

    def admit(self, model: Any) -> str:
        return ""

    def launch(self, job: RunJob, data: DataBundle | None, model: Any) -> None:
        self.thread = threading.Thread(target=self._work, args=(job, data, model), name="lepton_nb-training",
                                       daemon=True)
        self.thread.start()

    def _work(self, job: RunJob, data: DataBundle | None, model: Any) -> None:
        session = self.session
        assert session is not None
        try:
            run = run_job(job, Observers(session.history, (), session.control), data=data, model=model,
                          progress=session.progress, on_trainer=session.attach)
            session.finish(run)
        except BaseException as exc:  # everything, so the thread never dies silently
            session.fail(exc, traceback.format_exc())
        finally:
            session.ended()

    def call(self, job: str | Callable[..., Any], recipe: Recipe, control: Control | None, data: DataBundle | None,
             on_progress: Callable[..., None] | None, kwargs: dict[str, Any]) -> Any:
        """In the calling thread."""
        return call_job(job, recipe, control=control, data=data, on_progress=on_progress, **kwargs)

    def command(self, command: Command) -> None:
        """Nothing to send: the session's control is the trainer's own."""

    def warm_up(self) -> None:
        """This process trains: pay its one-off imports (torch._dynamo, scikit-learn) now, in the background."""
        warm_up_in_background()

    def close(self) -> None:
        """A thread holds nothing between runs."""
