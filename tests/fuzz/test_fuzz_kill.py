"""kill -9 whatever a run, a resume, a search or the tools are writing: every folder left behind loads (an
unfinished run resumes from its last checkpoint) or is refused with the package's error, and reopening it
leaves no temporary file.

Two kinds of kill: injected at the k-th write for every k (`kill_points`: deterministic, 202 points over six
scenarios in the long profile, a sample of the train scenario in the small one), and real ``SIGKILL`` sent to
``lepton-nb run`` at random moments (20 in the long profile, 1 in the small one).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fuzz import kill_points as kp
from tests.fuzz.helpers import PROFILE, record

REPO = Path(__file__).resolve().parents[2]
LONG = PROFILE == "long"
REAL_KILLS = 20 if LONG else 1
# the small profile's sample of the train scenario (30 points): recipe.json in place; best.pt of epoch 2 but not
# last.pt; metrics.json's temporary file (and point 8, the folder lost before, in its own test below)
SAMPLE = {"train": [2, 12, 27]}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return kp.make_sources(tmp_path_factory.mktemp("sources"))


def judge(verdicts: list[tuple[int, int, kp.Verdict]], target: str) -> None:
    """Tally the outcomes; fail with every lost folder, traceback and temporary file at once."""
    problems = []
    for k, code, v in verdicts:
        assert code in (-signal.SIGKILL, 0), f"k={k}: the child ended with {code}, not by the kill"
        problems += [f"k={k}: lost: {m}" for m in v.lost] + [f"k={k}: traceback: {m}" for m in v.tracebacks]
        problems += [f"k={k}: temporary file left: {m}" for m in v.temp_left]
        for m in v.messages:  # a refusal says what is missing and what to do
            assert len(m) < 700 and ("allowed" in m or "again" in m), f"k={k}: {m}"
        record(target, "lost" if v.lost else "traceback" if v.tracebacks else "temp file left" if v.temp_left
               else "loaded/resumed" if not v.refused else "refused clearly")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scenario", list(kp.SCENARIOS) if LONG else list(SAMPLE))
def test_kill_at_every_write(scenario, tmp_path, request):
    needs_source = kp.SCENARIOS[scenario][2] is not None
    src = request.getfixturevalue("sources") if needs_source else None
    if LONG:
        kp.prepare(scenario, tmp_path / "count", src)
        points = list(range(1, len(kp.count_points(scenario, tmp_path / "count")) + 1))
    else:
        points = SAMPLE[scenario]
    verdicts = []
    for k in points:
        ws = tmp_path / f"k{k}"
        kp.prepare(scenario, ws, src)
        code, verdict = kp.kill_and_reopen(scenario, ws, k)
        assert code == -signal.SIGKILL, f"k={k}: the scenario has fewer kill points (exit {code})"
        verdicts.append((k, code, verdict))
    judge(verdicts, f"kill -9 at every write ({scenario})")


def test_the_folder_lost_before_now_loads_and_resumes(tmp_path):
    """Killed after epoch 1's last.pt, before its history.json: the run loads as unfinished with epoch 1 (its
    history rebuilt from the checkpoint) and says how to resume; the resume completes."""
    import lepton_nb as lnb

    kp.prepare("train", tmp_path / "ws", None)
    code, verdict = kp.kill_and_reopen("train", tmp_path / "ws", 8)
    assert code == -signal.SIGKILL and verdict.loaded == 1 and verdict.resumed == 1, verdict
    (folder,) = (tmp_path / "ws" / "runs").iterdir()
    assert not (folder / "history.json").exists()
    run = lnb.load_run(folder)
    assert run.status == "unfinished" and len(run.history) == 1 and run.history.length("batch_loss") > 0
    assert f"--resume {folder}" in run.message


def test_real_sigkill_at_random_moments(tmp_path):
    """``lepton-nb run`` in its own process, sent SIGKILL at a random moment of its life after it created its
    run folder (a calibration run measures how long that lasts); the small profile kills once, when the first
    checkpoint appears."""
    recipe = kp.train_recipe(6, **{"data.limit": 400, "model.hidden": 256})
    recipe.to_file(tmp_path / "r.json")

    def start(ws: Path) -> subprocess.Popen:
        ws.mkdir()
        return subprocess.Popen([sys.executable, "-m", "lepton_nb", "run", str(tmp_path / "r.json"), "--out",
                                 str(ws / "runs"), "--quiet"], cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"})

    def folder_appears(proc: subprocess.Popen, ws: Path) -> float:
        while not list(ws.glob("runs/*")):  # follows the process, however slow the machine
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.01)
        return time.monotonic()

    writing = 0.0
    if LONG:
        calibration = start(tmp_path / "calibration")
        began = folder_appears(calibration, tmp_path / "calibration")
        assert calibration.wait() == 0, calibration.stderr.read().decode()[-2000:]
        calibration.stderr.close()
        writing = time.monotonic() - began
    rng = random.Random(0)
    verdicts = []
    for attempt in range(REAL_KILLS):
        ws = tmp_path / f"kill{attempt}"
        proc = start(ws)
        folder_appears(proc, ws)
        if LONG:
            time.sleep(rng.uniform(0.0, writing))
        else:
            while not list(ws.glob("runs/*/checkpoints/last.pt")) and proc.poll() is None:
                time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        code = proc.wait()
        proc.stderr.close()
        verdicts.append((attempt, code, kp.reopen(ws)))
    judge(verdicts, "real kill -9 of lepton-nb run at random moments")
