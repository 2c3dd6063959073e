import json
import math
import threading

import numpy as np

from lepton_nb.training.history import History, decimate


def test_concurrent_writers_and_readers_never_see_torn_series():
    h = History()
    stop = threading.Event()
    problems = []

    def reader():
        while not stop.is_set():
            x, y = h.series("loss")
            if len(x) != len(y) or (len(x) and not np.array_equal(x, y)):
                problems.append(len(x))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(20000):
        h.log_many(i, {"loss": float(i)})
    stop.set()
    for t in threads:
        t.join()
    assert problems == [] and h.length("loss") == 20000


def test_since_returns_only_new_points():
    h = History()
    for i in range(10):
        h.log("a", i, i * 2)
    x, y = h.since("a", 7)
    assert x.tolist() == [7, 8, 9] and y.tolist() == [14, 16, 18]
    assert h.since("missing", 0)[0].size == 0


def test_decimation_keeps_extremes_and_bounds_size():
    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 1000)
    y[54321] = 50.0
    dx, dy = decimate(x, y, 1000)
    assert len(dx) <= 1000 and dy.max() == 50.0 and 54321 in dx


def test_save_and_load_round_trip_with_nan(tmp_path):
    h = History()
    h.log("loss", 1, 0.5)
    h.log("loss", 2, math.nan)
    h.log_epoch({"epoch": 0, "step": 2, "val_loss": 0.4})
    h.meta["name"] = "x"
    loaded = History.load(h.save(tmp_path / "h.json"))
    x, y = loaded.series("loss")
    assert x.tolist() == [1, 2] and y[0] == 0.5 and math.isnan(y[1])
    assert loaded.epochs == h.epochs and loaded.meta == {"name": "x"}


def test_truncate_epochs_drops_a_partial_epoch():
    h = History()
    for step in range(1, 13):
        h.log("batch_loss", step, 1.0)
        if step % 4 == 0:
            h.log_epoch({"epoch": step // 4 - 1, "step": step})
            h.log("val_loss", step, 0.5)
    h.truncate_epochs(2)
    assert h.length("batch_loss") == 8 and h.length("val_loss") == 2 and len(h.epochs) == 2


def test_a_pickled_copy_has_every_point_and_a_lock_of_its_own():
    import pickle

    h = History()
    h.log_many(1, {"loss": 0.5, "acc": 0.9})
    h.log_epoch({"epoch": 0, "loss": 0.5})
    h.meta["classes"] = ["a", "b"]
    copy = pickle.loads(pickle.dumps(h))
    assert copy.series("loss")[1].tolist() == [0.5] and copy.epochs == h.epochs and copy.meta == h.meta
    copy.log("loss", 2, 0.25)  # its own lock works; the original is untouched
    assert h.length("loss") == 1 and copy.length("loss") == 2


def test_a_history_written_before_the_one_key_dialect_reads_as_today(tmp_path):
    old = {"series": {"train/loss": {"x": [1, 2], "y": [0.9, 0.7]}, "train_loss": {"x": [2], "y": [0.8]}},
           "epochs": [{"epoch": 0, "step": 2, "train_loss": 0.8}], "meta": {}}
    path = tmp_path / "history.json"
    path.write_text(json.dumps(old))
    loaded = History.load(path)
    assert loaded.names() == ["batch_loss", "train_loss"]  # one dialect: per-batch batch_loss, per-epoch train_loss
    assert loaded.series("batch_loss")[1].tolist() == [0.9, 0.7]
    assert loaded.series("train/loss")[1].tolist() == [0.9, 0.7] and loaded.length("train/loss") == 2  # old name


def test_epoch_seconds_leaves_out_the_first_epochs_warm_up():
    h = History()
    assert math.isnan(h.epoch_seconds())
    h.log_epoch({"epoch": 0, "seconds": 9.0})
    assert h.epoch_seconds() == 9.0  # the only epoch there is
    for e, s in enumerate((1.0, 1.2, 0.9), start=1):
        h.log_epoch({"epoch": e, "seconds": s})
    assert h.epoch_seconds() == 1.0  # the median of epochs 2-4: the first one's 9 s warm-up is not counted
