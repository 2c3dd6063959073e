"""kill -9 of ``lepton-nb run`` while it writes checkpoints: the last checkpoint always loads, the run resumes
from it, and the resumed start removes every temporary file the killed writer left.

The small profile kills once; the long one 20 times (``LEPTON_NB_FUZZ=long``)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import lepton_nb as lnb
from lepton_nb.training.checkpoint import load_checkpoint
from tests.conftest import tiny_recipe
from tests.fuzz.helpers import PROFILE, record

REPO = Path(__file__).resolve().parents[2]
KILLS = 20 if PROFILE == "long" else 1


def temp_files(run_dir: Path) -> list[Path]:
    return [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")]


def test_kill_9_while_checkpointing_then_resume(tmp_path):
    recipe = tiny_recipe(**{"train.epochs": 10_000, "data.limit": 200, "model.hidden": 1024, "interpret.enabled": False,
                            "train.scheduler": "none"})
    recipe.to_file(tmp_path / "r.json")
    rng = random.Random(0)
    left_behind = 0
    for attempt in range(KILLS):
        out = tmp_path / f"runs{attempt}"
        proc = subprocess.Popen([sys.executable, "-m", "lepton_nb", "run", str(tmp_path / "r.json"), "--out", str(out),
                                 "--quiet"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, "OMP_NUM_THREADS": "1"})
        deadline = time.monotonic() + 120
        while not list(out.glob("*/checkpoints/last.pt")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.0))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        (run_dir,) = out.iterdir()
        state = load_checkpoint(run_dir / "checkpoints" / "last.pt")
        left_behind += bool(temp_files(run_dir))
        resumed = lnb.train(recipe.updated({"train.epochs": state["epoch"] + 1}), resume=run_dir, out=None,
                            progress=False, report=False)
        assert resumed.status == "completed" and resumed.epochs_done == state["epoch"] + 1
        assert temp_files(run_dir) == []
        record("kill -9 while checkpointing", "success")
    print(f"kills that left temporary files: {left_behind} of {KILLS}, all removed when the run resumed")
