"""A finished run replayed in the live monitor: the same curves, frames and change marks, nothing trained."""

import pytest

import lepton_nb as lnb
from lepton_nb.errors import UsageError
from tests.conftest import HANG_S, tiny_recipe


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return lnb.train(tiny_recipe(train__epochs=3), out=tmp_path_factory.mktemp("runs"), progress=False)


def captured(widget):
    sent = []
    widget.send = lambda content, buffers=None: sent.append(content)
    return sent


def test_replay_from_a_folder_plays_every_point_frame_and_mark(run):
    folder = lnb.load_run(run.dir)
    folder.history.meta["changes"] = [{"step": 5, "epoch": 0, "field": "train.lr", "old": 0.005, "new": 0.001}]
    r = lnb.replay(folder, speed=1000, start=False)
    monitor_msgs, timeline_msgs = captured(r.monitor), captured(r.timeline)
    assert r.play() and not r.play()  # one replay at a time
    assert r.wait(HANG_S)
    assert r.monitor.state == "completed" and "finished" in r.monitor.message
    for name in run.history.names():
        assert r.history.series(name)[1].tolist() == pytest.approx(run.history.series(name)[1].tolist(),
                                                                    nan_ok=True)
    assert len(r.history.epochs) == 3
    sent_frames = sum(len(m["frames"]) for m in timeline_msgs if m["type"] in ("frames", "reset"))
    assert sent_frames == len(run.history.artifacts["attributions"]) >= 1
    assert r.monitor.marks == [{"step": 5, "text": "lr 0.005→0.001"}]
    appended = sum(len(s["y"]) for m in monitor_msgs if m["type"] == "append" for s in m["series"].values())
    assert appended >= len(run.history.series("batch_loss")[0])  # the curves arrived piece by piece
    assert r.play() and r.wait(HANG_S)  # and again


def test_stop_pause_and_bad_speed(run):
    r = lnb.replay(run.dir, speed=0.01, start=False)
    captured(r.monitor)
    r.play()
    r.monitor._on_msg(r.monitor, {"type": "command", "name": "pause"}, [])
    r.monitor._on_msg(r.monitor, {"type": "command", "name": "stop"}, [])
    assert r.wait(HANG_S) and r.monitor.state == "stopped"
    for bad in (0, -1, "fast"):
        with pytest.raises(UsageError, match="speed"):
            lnb.replay(run.dir, speed=bad)
