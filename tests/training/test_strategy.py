"""Data-parallel training under torchrun: 2 gloo processes reproduce the 1-process run.

Why the 2-process weights may be compared with a tight tolerance: both runs see the same global
batches in the same order (one seeded permutation, each process taking its share), the same
augmentation (drawn for the global batch), the same initial weights, and gradients of the same
global-mean loss (each process's mean is scaled by its share before DDP averages). What remains is
floating-point summation order (per-process partial sums added by the all-reduce), about 1e-7
relative per step; over the few optimizer steps here that stays orders of magnitude below the 1e-5
bound. Dropout masks and batch-norm batch statistics are per process on CPU (torch's SyncBatchNorm
needs a GPU), so the compared recipe uses neither.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.cli import main
from lepton_nb.data.batches import TensorBatches, rank_share, shard
from lepton_nb.training.strategy import check_batch_size
from tests.conftest import HANG_S, REPO, tiny_recipe


def equivalence_recipe() -> lnb.Recipe:
    # 421 train samples: batches of 64 leave a last batch of 37, split 19/18 over two processes
    return tiny_recipe(**{"name": "ddp", "data.limit": 601, "model.batch_norm": False, "model.dropout": 0.0,
                          "train.grad_accumulation": 2, "train.epochs": 2})


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


def test_two_gloo_processes_match_one_process(tmp_path, capsys, monkeypatch):
    recipe = equivalence_recipe()
    path = recipe.to_file(tmp_path / "r.json")
    single = lnb.train(recipe, out=tmp_path / "one", progress=False)
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    code = main(["run", str(path), "--out", str(tmp_path / "two"), "--quiet", "--nproc", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 processes (gloo)" in out
    (run_dir,) = (tmp_path / "two").iterdir()  # only rank 0 wrote a run folder
    double = lnb.load_run(run_dir, checkpoint="last")
    for key, value in single.model.state_dict().items():
        assert torch.allclose(value, double.model.state_dict()[key], atol=1e-5, rtol=0), key
    assert double.metrics == pytest.approx(single.metrics, abs=1e-5)
    one_epochs, two_epochs = single.history.epochs, double.history.epochs
    assert len(two_epochs) == 2
    for a, b in zip(one_epochs, two_epochs):
        for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            assert b[k] == pytest.approx(a[k], abs=1e-5), k
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and double.history.meta["distributed"] == {"world_size": 2, "backend": "gloo"}
    assert (run_dir / "report.html").is_file()


WORKER = """
import sys
import lepton_nb as lnb
from lepton_nb.training.callbacks import Callback

class StopOnRankOne(Callback):
    def on_batch_end(self, event):
        if int(__import__("os").environ["RANK"]) == 1 and event.step == 2:
            self.trainer.control.stop("asked on rank 1")

recipe = lnb.Recipe.from_file(sys.argv[1])
run = lnb.train(recipe, out=sys.argv[2], progress=False, callbacks=[StopOnRankOne()])
print(f"rank {__import__('os').environ['RANK']}: {run.status} {run.message} epochs={run.epochs_done}", flush=True)
"""


def test_a_stop_on_one_process_stops_all_without_hanging(tmp_path):
    recipe = tiny_recipe(**{"train.epochs": 3})
    recipe_path = recipe.to_file(tmp_path / "r.json")
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(WORKER))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script), str(recipe_path), str(tmp_path / "runs")], capture_output=True, text=True,
                          timeout=HANG_S, env=child_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rank 0: stopped stopped on another process epochs=0" in proc.stdout
    assert "rank 1: stopped asked on rank 1 epochs=0" in proc.stdout


def test_each_process_gets_its_share_of_the_same_global_batches(digits_bundle):
    data = digits_bundle.rebind(tiny_recipe(**{"augment.ops": [{"op": "rotation", "degrees": 30.0}]}))
    aug = data.augmenter()
    kwargs = {"shuffle": True, "augment": aug, "seed": 3, "device": torch.device("cpu")}
    whole = TensorBatches(data, "train", 64, **kwargs)
    shares = [TensorBatches(data, "train", 64, rank=r, world_size=2, **kwargs) for r in (0, 1)]
    for b in (whole, *shares):
        b.set_epoch(1)
    assert len(whole) == len(shares[0]) == len(shares[1])
    for (x, y), (x0, y0), (x1, y1) in zip(whole, *shares):
        assert torch.equal(torch.cat([y0, y1]), y)
        assert torch.allclose(torch.cat([x0, x1]), x, atol=1e-6)  # augmentation drawn for the global batch


def test_rank_shares_and_shards_cover_everything_once():
    for m in (64, 37, 3, 1):
        parts = [rank_share(m, r, 2) for r in range(2)]
        if m >= 2:
            assert parts[0][0] == 0 and parts[0][1] == parts[1][0] and parts[1][1] == m
        else:  # fewer samples than processes: everyone takes the whole (tiny) batch, no process runs empty
            assert parts == [(0, m), (0, m)]

    assert [shard(10, rank, 3) for rank in range(3)] == [(0, 4), (4, 7), (7, 10)]
    assert [shard(1, rank, 2) for rank in range(2)] == [(0, 1), (1, 1)]  # evaluation shards may be empty


def test_batch_size_must_split_evenly_and_nproc_is_checked_before_launching(tmp_path, capsys):
    with pytest.raises(lnb.RecipeError, match=r"train.batch_size: 63 — with 2 processes, allowed: a multiple of 2"):
        check_batch_size(tiny_recipe(**{"train.batch_size": 63}), 2)
    path = tiny_recipe(**{"train.batch_size": 63}).to_file(tmp_path / "r.json")
    assert main(["run", str(path), "--nproc", "2", "--out", str(tmp_path)]) == 2
    assert "e.g. 62 or 64" in capsys.readouterr().err
    assert main(["run", str(path), "--nproc", "0", "--out", str(tmp_path)]) == 2
    assert "--nproc: 0 — allowed: a whole number of processes ≥ 1" in capsys.readouterr().err
    assert not list(tmp_path.glob("*/metrics.json"))


def test_launch_command_for_the_studio(tmp_path):
    cmd = lnb.launch_command(tiny_recipe(), 2, recipe_path=tmp_path / "r.json", write=True)
    assert cmd.args[:5] == ["torchrun", "--standalone", "--nproc_per_node", "2", "-m"]
    assert cmd.text.endswith(f"-m lepton_nb run {tmp_path / 'r.json'} --out runs")
    assert lnb.Recipe.from_file(tmp_path / "r.json") == tiny_recipe()
    assert cmd.to_dict()["nproc"] == 2 and "gloo" in cmd.table()
    alt = lnb.launch_command(None, 4, launcher="lepton-nb", sets=["train.lr=0.01"])
    assert alt.text == "lepton-nb run recipe.json --out runs --set train.lr=0.01 --nproc 4"
    with pytest.raises(lnb.UsageError, match="launcher: 'mpirun' — allowed: torchrun, python, lepton-nb"):
        lnb.launch_command(None, 2, launcher="mpirun")


def test_one_sample_per_process_with_batch_norm_is_refused():
    with pytest.raises(lnb.RecipeError, match=r"train.batch_size: 4 — with 4 processes each takes 1 sample"):
        check_batch_size(tiny_recipe(**{"train.batch_size": 4}), 4)
    check_batch_size(tiny_recipe(**{"train.batch_size": 4, "model.batch_norm": False}), 4)
    check_batch_size(tiny_recipe(**{"train.batch_size": 8}), 4)
