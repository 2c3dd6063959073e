import threading
import time

from torch import nn

import lepton_nb as lnb
from lepton_nb.workflows.session import Session
from tests.conftest import HANG_S, tiny_recipe, wait_for


def test_start_returns_at_once_and_the_run_finishes_in_the_background(tmp_path):
    s = Session(out=tmp_path)
    states = []
    s.on_state(states.append)
    assert s.start(tiny_recipe())
    assert s.busy and s.state != "completed"  # returned while the run goes on
    assert s.wait(HANG_S) and s.state == "completed"
    headless = lnb.train(tiny_recipe(), progress=False, out=None)  # the same seeded run, in the foreground
    assert s.run is not None and s.run.metrics == headless.metrics
    assert states[0] == "starting" and "running" in states and states[-1] == "completed"
    assert s.history is s.run.history


def test_second_start_is_refused_without_a_second_thread(tmp_path):
    s = Session(out=None)
    assert s.start(tiny_recipe(train__epochs=30, data__limit=0))
    before = threading.active_count()
    assert not s.start(tiny_recipe())
    assert "already" in s.message and threading.active_count() == before
    s.stop()
    assert s.wait(HANG_S) and s.state == "stopped"
    assert s.start(tiny_recipe(train__epochs=1))  # a new run once the first has ended
    assert s.wait(HANG_S) and s.state == "completed"


def test_pause_resume_stop(tmp_path):
    s = Session(out=None)
    s.start(tiny_recipe(train__epochs=30, data__limit=0))
    assert wait_for(lambda: s.history.length("batch_loss") > 3)
    s.pause()
    assert wait_for(lambda: s.state == "paused")
    assert s.message.startswith("paused")  # the monitor's line says so, not "training"
    n = s.history.length("batch_loss")
    time.sleep(0.2)
    assert s.history.length("batch_loss") == n
    s.resume()
    assert wait_for(lambda: s.history.length("batch_loss") > n)
    s.stop()
    assert s.wait(HANG_S) and s.state == "stopped" and s.run.status == "stopped"
    assert s.run.history.length("batch_loss") >= n


def test_stop_during_data_loading():
    s = Session(out=None)
    s.start(tiny_recipe(train__epochs=30))
    s.stop()
    assert s.wait(HANG_S) and s.state == "stopped"


class Exploding(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(64, 10)
        self.calls = 0

    def forward(self, x):
        self.calls += self.training
        if self.calls > 12:
            raise MemoryError("CUDA out of memory (simulated)")
        return self.lin(x.flatten(1))


def test_exception_in_the_training_thread_is_kept_with_the_history(tmp_path):
    s = Session(out=tmp_path)
    s.start(tiny_recipe(train__epochs=5), model=Exploding())
    assert s.wait(HANG_S)
    assert s.state == "error" and isinstance(s.error, MemoryError)
    assert "simulated" in s.message and "Traceback" in s.traceback and "forward" in s.traceback
    assert s.history.length("batch_loss") == 12  # nothing lost
    (run_dir,) = tmp_path.iterdir()
    assert (run_dir / "history.json").exists() and (run_dir / "checkpoints" / "last.pt").exists()
    assert s.start(tiny_recipe(train__epochs=1)) and s.wait(HANG_S) and s.state == "completed"  # usable again
