"""lepton_nb vs the seed articles' training loop, side by side in one process, on the same MNIST split.

The seed loop: a CNN conv32-pool-conv64-pool-conv64-dense64, a torchvision-style Dataset of PIL
images with ToTensor + Normalize in a DataLoader, Adam 1e-3, batch 64.

Measured (training time only; test evaluation after each epoch is excluded on both sides):
  A. the same seed model trained by lepton_nb's Trainer: wall time per epoch;
  B. time to accuracy: the seed loop until 97.2 % test accuracy vs lepton_nb's default MNIST
     recipe until 98 %;
  C. Trainer overhead vs a bare loop over the same batches, model and optimizer (attribution
     probes off: they are optional, budgeted at 5 % and measured by bench_interpret.py).

B uses the default MNIST recipe as a user gets it, attribution probes included.

Data: the real MNIST test split (10,000 images) from ../shared/data, split 8,000 / 2,000.
Run: ``.venv/bin/python benchmarks/bench_seed_loop.py`` (about two minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision import transforms

import lepton_nb as lnb
from lepton_nb.training.events import EpochEnd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def seed_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(64 * 3 * 3, 64), nn.ReLU(), nn.Linear(64, 10),
    )


class PilMnist(torch.utils.data.Dataset):
    """What torchvision.datasets.MNIST does per sample: uint8 → PIL image → transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images[:, 0].numpy(), labels.numpy()
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


def mnist_recipe(data_root: Path) -> lnb.Recipe:
    return lnb.Recipe.preset("mnist").updated({
        "data.root": str(data_root), "data.download": False, "data.official_split": "test",
        "data.val_fraction": 0.0, "data.test_fraction": 0.2, "data.seed": 0})


@torch.inference_mode()
def test_accuracy(model: nn.Module, loader) -> float:
    model.eval()
    correct = total = 0
    for x, y in loader:
        correct += int((model(x).argmax(1) == y).sum())
        total += len(y)
    model.train()
    return correct / total


def seed_loop(bundle: lnb.DataBundle, epochs: int, target: float, seed: int) -> dict:
    torch.manual_seed(seed)
    train_ds = PilMnist(bundle.train.x, bundle.train.y)
    test_ds = PilMnist(bundle.test.x, bundle.test.y)
    t0 = time.perf_counter()
    loader = torch.utils.data.DataLoader(train_ds, batch_size=64, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_ds, batch_size=500)
    model = seed_model()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    clock, epoch_times, accs, reached = time.perf_counter() - t0, [], [], None
    for _ in range(epochs):
        t = time.perf_counter()
        for x, y in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        dt = time.perf_counter() - t
        clock += dt
        epoch_times.append(dt)
        accs.append(test_accuracy(model, test_loader))
        if reached is None and accs[-1] >= target:
            reached = clock
    return {"epoch_seconds": epoch_times, "test_accuracy": accs, "time_to_target": reached, "target": target}


class TestAccuracy:
    """Evaluates the test split after each epoch and keeps the time it took, to subtract it."""

    def __init__(self, bundle: lnb.DataBundle):
        self.bundle, self.accs, self.eval_seconds, self.marks = bundle, [], 0.0, []

    def attach(self, trainer) -> None:
        self.trainer = trainer
        trainer.events.subscribe(self.on_epoch_end, EpochEnd)

    def on_epoch_end(self, event: EpochEnd) -> None:
        t = time.perf_counter()
        self.accs.append(lnb.evaluate(self.trainer.model, self.bundle, "test", ["accuracy"]).metrics["accuracy"])
        self.eval_seconds += time.perf_counter() - t
        self.marks.append(time.perf_counter() - self.eval_seconds)


def lepton_run(recipe: lnb.Recipe, bundle: lnb.DataBundle, target: float, model: nn.Module | None = None) -> dict:
    probe = TestAccuracy(bundle)
    t0 = time.perf_counter()
    run = lnb.train(recipe, data=bundle, model=model, progress=False, out=None, callbacks=[probe], report=False)
    clock = [m - t0 for m in probe.marks]
    reached = next((c for c, a in zip(clock, probe.accs) if a >= target), None)
    return {"epoch_seconds": [e["seconds"] for e in run.history.epochs], "test_accuracy": probe.accs,
            "time_to_target": reached, "target": target, "cumulative_seconds": clock}


def bare_vs_trainer(recipe: lnb.Recipe, bundle: lnb.DataBundle, epochs: int, repeats: int) -> dict:
    """Same model, optimizer and batches: a minimal loop against lnb's Trainer, interleaved."""
    bare, trainer_times = [], []
    for r in range(repeats):
        for kind in (("bare", "trainer") if r % 2 == 0 else ("trainer", "bare")):
            torch.manual_seed(0)
            if kind == "bare":
                model = lnb.build_model(recipe.model, bundle.spec(), seed=0)
                opt = torch.optim.AdamW(model.parameters(), lr=recipe.train.lr, weight_decay=recipe.train.weight_decay)
                batches = bundle.batches("train", recipe.train.batch_size, train=True, seed=0)
                t = time.perf_counter()
                for e in range(epochs):
                    batches.set_epoch(e)
                    for x, y in batches:
                        opt.zero_grad(set_to_none=True)
                        nn.functional.cross_entropy(model(x), y).backward()
                        opt.step()
                bare.append(time.perf_counter() - t)
            else:
                # the Trainer itself: attribution probes are an optional feature with their own benchmark
                r2 = recipe.updated({"train.epochs": epochs, "train.scheduler": "none", "interpret.enabled": False})
                run = lnb.train(r2, data=bundle, progress=False, out=None, report=False)
                trainer_times.append(sum(e["seconds"] for e in run.history.epochs))
    ratio = statistics.median(trainer_times) / statistics.median(bare)
    return {"bare_seconds": bare, "trainer_seconds": trainer_times, "overhead_ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="folder holding MNIST/raw")
    parser.add_argument("--seed-epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=4, help="interleaved repeats of the overhead test")
    parser.add_argument("--out", default=str(RESULTS / "seed_loop.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(torch.get_num_threads())
    recipe = mnist_recipe(Path(args.data))
    try:
        bundle = lnb.build_data(recipe)
    except lnb.DataError as exc:
        print(f"bench_seed_loop: {exc}", file=sys.stderr)
        return 2
    print(f"data: {bundle.describe()}; threads {torch.get_num_threads()}")

    same_model = recipe.updated({"train.optimizer": "adam", "train.lr": 1e-3, "train.batch_size": 64,
                                 "train.scheduler": "none", "train.weight_decay": 0.0, "augment.ops": [],
                                 "train.epochs": 3})
    a_lnb = lepton_run(same_model, bundle, 1.01, model=seed_model())
    a_seed = seed_loop(bundle, 3, 1.01, seed=0)
    b_seed = seed_loop(bundle, args.seed_epochs, 0.972, seed=0)
    b_lnb = lepton_run(recipe, bundle, 0.98)
    c = bare_vs_trainer(recipe, bundle, epochs=2, repeats=args.repeats)

    def per_epoch(d):  # epoch 1 pays one-off warm-up costs on both sides; report the steady state too
        return {"first": d["epoch_seconds"][0], "steady_median": statistics.median(d["epoch_seconds"][1:])}

    results = {
        "A_same_model_epoch_seconds": {"seed_loop": per_epoch(a_seed), "lepton_nb": per_epoch(a_lnb),
                                       "speedup_steady": statistics.median(a_seed["epoch_seconds"][1:])
                                       / statistics.median(a_lnb["epoch_seconds"][1:])},
        "B_time_to_accuracy": {"seed_loop_to_97.2": b_seed, "lepton_nb_default_to_98": b_lnb},
        "C_trainer_overhead": c,
        "machine": {"threads": torch.get_num_threads(), "torch": torch.__version__},
    }
    seed_t, lnb_t = b_seed["time_to_target"], b_lnb["time_to_target"]
    results["B_time_to_accuracy"]["ratio_lepton_over_seed"] = (lnb_t / seed_t) if seed_t and lnb_t else None
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))

    A = results["A_same_model_epoch_seconds"]
    print("\nA. same seed CNN, wall seconds per epoch (8,000 images)")
    print(f"   seed loop (PIL + ToTensor + Normalize DataLoader): first {A['seed_loop']['first']:.2f}  "
          f"steady {A['seed_loop']['steady_median']:.2f}")
    print(f"   lepton_nb Trainer (tensor-resident batches):        first {A['lepton_nb']['first']:.2f}  "
          f"steady {A['lepton_nb']['steady_median']:.2f}   ({A['speedup_steady']:.2f}x faster)")
    print("\nB. time to accuracy (training seconds, cumulative)")
    print(f"   seed loop to 97.2 %: {_fmt(seed_t)}   test acc per epoch {_accs(b_seed)}")
    print(f"   lepton_nb default MNIST recipe to 98 %: {_fmt(lnb_t)}   test acc per epoch {_accs(b_lnb)}")
    ratio = results["B_time_to_accuracy"]["ratio_lepton_over_seed"]
    print(f"   ratio: {ratio:.2f} (target ≤ 0.50)" if ratio else "   ratio: n/a (a target was not reached)")
    print(f"\nC. Trainer vs bare loop, same batches: median {statistics.median(c['trainer_seconds']):.3f} s vs "
          f"{statistics.median(c['bare_seconds']):.3f} s → overhead {100 * (c['overhead_ratio'] - 1):+.1f} % "
          f"(target ≤ 3 %)")
    print(f"\nwrote {args.out}")
    return 0


def _fmt(v: float | None) -> str:
    return f"{v:.2f} s" if v is not None else "not reached"


def _accs(d: dict) -> str:
    return " ".join(f"{a:.4f}" for a in d["test_accuracy"])


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    sys.exit(main())
