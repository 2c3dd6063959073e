"""kill -9 in the middle of checkpoint writes: the last checkpoint always loads, and the temporary files
the killed writer left are removed when the run is resumed."""

import os
import signal
import subprocess
import sys
import time

from lepton_nb.artifacts import RunFolder
from lepton_nb.files import remove_stale_temp_files
from lepton_nb.training.checkpoint import load_checkpoint, save_checkpoint

WRITER = """
import sys, torch
from lepton_nb.training.checkpoint import save_checkpoint
folder = sys.argv[1]
state = {"model": {"w": torch.randn(1_000_000)}, "epoch": 0}
i = 0
while True:
    i += 1
    state["epoch"] = i
    save_checkpoint(folder + "/last.pt", state)
    print(i, flush=True)
"""


def test_kill_mid_save_leaves_a_loadable_checkpoint_and_no_temp_file_after_cleanup(tmp_path):
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    leftovers = 0
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip()  # at least one complete checkpoint exists
        time.sleep(0.05 + 0.037 * attempt)  # land at different points of a write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        state = load_checkpoint(folder / "last.pt")
        assert state["epoch"] >= 1 and state["model"]["w"].shape == (1_000_000,)
        leftovers += len(list(folder.glob(".*.tmp")))
        RunFolder(tmp_path / "run").remove_stale_temp_files()
        assert list(folder.glob(".*.tmp")) == []
    print(f"kills that landed mid-write: {leftovers} of 6")  # varies; each one was cleaned above


def test_a_live_writers_temp_file_is_left_alone(tmp_path):
    own = tmp_path / f".last.pt.{os.getppid()}.tmp"  # the parent (pytest's launcher) is alive
    own.write_bytes(b"partial")
    dead = tmp_path / ".last.pt.999999999.tmp"
    dead.write_bytes(b"partial")
    assert remove_stale_temp_files(tmp_path) == [dead]
    assert own.exists()
    save_checkpoint(tmp_path / "x.pt", {"a": 1})
    assert load_checkpoint(tmp_path / "x.pt") == {"a": 1}
