"""One worker process of a shared study: ``python -m lepton_nb.search.worker STUDY_FOLDER --worker I``.

Started by `run_workers`; it loads the study folder's recipe and runs trials until the study's budget
is used up. The first Ctrl-C stops its trial after the current batch (the trial is failed and redone on
resume); a second one aborts.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import LeptonError
from ..training.control import Control
from .engine import tune
from .folder import StudyFolder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lepton_nb.search.worker")
    parser.add_argument("study", help="study folder")
    parser.add_argument("--worker", type=int, default=1,
                        help="this worker's index (> 0: it writes no report; each trial's draws come from its number)")
    args = parser.parse_args(argv)
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    control = Control()

    def on_sigint(signum: int, frame: Any) -> None:
        if control.stop_requested:
            raise KeyboardInterrupt
        control.stop("interrupted by Ctrl-C")

    signal.signal(signal.SIGINT, on_sigint)
    folder = StudyFolder(args.study)
    try:
        tune(folder.read_recipe(), out=folder.path.parent, resume=True, worker=args.worker, progress=False,
             control=control)
    except LeptonError as exc:
        print(f"lepton-nb worker {args.worker}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 130 if control.stop_requested else 0


if __name__ == "__main__":
    sys.exit(main())
