"""Text classifiers on the 1,000 labelled IMDb sentences: 5-fold CV, the same folds for every model.

TF-IDF (1–2-grams) + logistic regression (C=10) is the line to beat (DESIGN.md: 77.9 %). Against it:
the sentiment preset (text_bow over words, chosen on folds of other seeds, never these), the text CNN
(the preset before), the fastText-style bag of uni+bigrams, a transformer trained from
scratch, the same transformer pretrained by masked-token prediction on the fold's *training* sentences
(labels unused, never the held-out fold) then fine-tuned, and that pretrained encoder with LoRA
adapters (q, v and the word embedding; r=8) and only adapters + head training. Reported: mean ± std
accuracy over the folds, trainable parameters and seconds per training epoch (one thread: this machine's 2
cores are shared), and paired per-fold differences (mean ± std) of the comparisons the targets are about.

"From the dropdown" (``--part dropdown``): the ``sentiment`` preset with only ``model.arch`` changed, as a
newcomer picks an architecture in the Model tab, on the IMDb sentences and on the bundled reviews
(``lepton_nb/datasets/reviews.tsv``), same 5 folds per dataset. Each architecture brings its own defaults
(``lepton_nb/recipe/defaults.py``); the target is the transformer within 5 points of ``text_bow`` on both.

Run: ``.venv/bin/python benchmarks/bench_text.py [--part models|dropdown|all] [--folds 5] [--only text_bow,...]``;
writes ``benchmarks/results/bench_text.json`` (each part keeps the other's results).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

import lepton_nb as lnb
from lepton_nb.data import DataBundle, kfold_bundles
from lepton_nb.data.pretrain import MaskTokens, corpus_bundle
from lepton_nb.datasets import reviews_path
from lepton_nb.evaluation import evaluate_model
from lepton_nb.models import build_masked_lm_model, build_model, count_parameters
from lepton_nb.models.adapters import base_key, is_adapter_key
from lepton_nb.training.trainer import Trainer
from lepton_nb.workflows import make_trainer
from lepton_nb.workflows.pretraining import pretrain_settings

ROOT = Path(__file__).resolve().parents[1]
IMDB = Path(os.environ.get("LEPTON_NB_SHARED", ROOT.parent / "shared")) / "data" / "sentiment" / "imdb_labelled.txt"
RESULTS = ROOT / "benchmarks" / "results"

# the transformer rows below keep the settings they were first measured with ([CLS] pooling, 2 blocks); the
# transformer "from the dropdown" (--part dropdown) takes text_transformer's own defaults instead
TRANSFORMER = {"model.arch": "text_transformer", "model.embed_dim": 64, "model.heads": 4, "model.depth": 2,
               "model.hidden": 128, "model.dropout": 0.2, "model.pooling": "cls", "train.lr": 3e-3,
               "train.epochs": 20, "train.weight_decay": 1e-2, "train.scheduler": "one_cycle", "augment.ops": []}
TEXT_CNN = {"model.arch": "text_cnn", "model.width": 64, "model.embed_dim": 64, "model.dropout": 0.5, "train.lr": 3e-3,
            "train.epochs": 15, "train.scheduler": "one_cycle"}  # the sentiment preset before text_bow
BOW = {"model.arch": "text_bow", "model.embed_dim": 32, "model.dropout": 0.5, "train.lr": 1e-2, "train.epochs": 15,
       "train.scheduler": "one_cycle", "model.buckets": 20000}
PRETRAIN = {"pretrain.epochs": 20, "pretrain.lr": 2e-3, "pretrain.batch_size": 32}
# fine-tuning settings chosen on 2 folds of another seed (data.seed=1), never on the folds reported here:
# full fine-tuning at a third of the from-scratch lr; LoRA on q, v and the word embedding (on q, v alone the
# frozen embedding, pretrained on 800 sentences, held LoRA about 5 points below full fine-tuning there)
FINE_TUNE = {"train.lr": 1e-3}
LORA = {"model.adapter": {"kind": "lora", "r": 8, "alpha": 16, "targets": ["q", "v", "embedding"]},
        "model.freeze": "features", "train.lr": 3e-3}


DATASETS = {"imdb": IMDB, "reviews": reviews_path()}
DROPDOWN = ("text_bow", "text_transformer", "text_cnn", "text_bilstm")  # text_bow: the preset itself


def base_recipe(path: Path = IMDB) -> lnb.Recipe:
    return lnb.Recipe.preset("sentiment").updated({"data.path": str(path), "data.test_fraction": 0.0,
                                                   "interpret.enabled": False, "train.checkpoint": False,
                                                   "train.device": "cpu"})


def variants() -> dict[str, dict]:
    return {
        "text_bow (sentiment preset)": {},
        "text_cnn": TEXT_CNN,
        "text_bow (uni+bigrams)": BOW,
        "text_bow (words only, 32-d)": {**BOW, "model.buckets": 0},
        "transformer (scratch)": TRANSFORMER,
        "transformer (pretrained + fine-tuned)": {**TRANSFORMER, **PRETRAIN, **FINE_TUNE, "_pretrain": True},
        "transformer (pretrained + LoRA)": {**TRANSFORMER, **PRETRAIN, **LORA, "_pretrain": True},
    }


PAIRS = [("text_bow (sentiment preset)", "tfidf+lr"),
         ("transformer (pretrained + fine-tuned)", "transformer (scratch)"),
         ("transformer (pretrained + LoRA)", "transformer (pretrained + fine-tuned)")]

_ENCODERS: dict[tuple[int, str], dict[str, torch.Tensor]] = {}  # one pretraining per fold, shared by two variants


def pretrained_encoder(recipe: lnb.Recipe, bundle: DataBundle) -> dict[str, torch.Tensor]:
    """Masked-token pretraining on the fold's training sentences only; returns the encoder weights."""
    model = {k: v for k, v in recipe.to_dict()["model"].items() if k not in ("adapter", "freeze", "init_from")}
    key = (id(bundle), json.dumps({"model": model, "pretrain": recipe.to_dict()["pretrain"]}))
    if key not in _ENCODERS:
        _ENCODERS.clear()
        _ENCODERS[key] = _pretrain(recipe, bundle)
    return _ENCODERS[key]


def _pretrain(recipe: lnb.Recipe, bundle: DataBundle) -> dict[str, torch.Tensor]:
    corpus = corpus_bundle(list(bundle.train.texts), bundle.vocab, recipe.data.max_len)
    model = build_masked_lm_model(recipe.model, corpus.spec(), seed=recipe.train.seed)
    Trainer(model, corpus, pretrain_settings(recipe),
            steps=[MaskTokens(bundle.vocab, recipe.pretrain.mask_prob, recipe.train.seed)]).fit()
    return {k: v for k, v in model.state_dict().items() if k.startswith("features.")}


def load_encoder(model: torch.nn.Module, encoder: dict[str, torch.Tensor]) -> None:
    state = model.state_dict()
    state.update({k: encoder[base_key(k)] for k in state if k.startswith("features.") and not is_adapter_key(k)})
    model.load_state_dict(state)


def run_fold(name: str, changes: dict, bundle: DataBundle) -> dict[str, float]:
    changes = dict(changes)
    pre = changes.pop("_pretrain", False)
    recipe = base_recipe().updated(changes)
    t0 = time.perf_counter()
    model = build_model(recipe.model, bundle.spec(), seed=recipe.train.seed)
    pretrain_s = 0.0
    if pre:  # the fold's encoder, then the recipe's adapters and freezing (make_trainer) on top of it
        encoder = pretrained_encoder(recipe.updated({"model.adapter.kind": "none", "model.freeze": "none"}), bundle)
        pretrain_s = time.perf_counter() - t0
        load_encoder(model, encoder)
    trainer = make_trainer(recipe, bundle.rebind(recipe), model=model)  # the variant's own augmentation
    trainer.fit()
    acc = evaluate_model(trainer.model, bundle, "test", ["accuracy"]).metrics["accuracy"]
    epochs = [e["seconds"] for e in trainer.history.epochs]
    return {"accuracy": acc, "trainable": count_parameters(trainer.model, trainable_only=True),
            "total": count_parameters(trainer.model), "epoch_s": float(np.mean(epochs)), "pretrain_s": pretrain_s}


def tfidf_fold(bundle: DataBundle) -> dict[str, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2))
    t0 = time.perf_counter()
    x = vec.fit_transform(bundle.train.texts)
    clf = LogisticRegression(C=10, max_iter=2000).fit(x, bundle.train.y.numpy())
    seconds = time.perf_counter() - t0
    acc = float((clf.predict(vec.transform(bundle.test.texts)) == bundle.test.y.numpy()).mean())
    return {"accuracy": acc, "trainable": float(x.shape[1] + 1), "total": float(x.shape[1] + 1), "epoch_s": seconds,
            "pretrain_s": 0.0}


def dropdown(folds: int, only: list[str]) -> None:
    """The preset with only model.arch changed, on each dataset; same folds for every architecture.

    With ``--only``, the rows of the architectures not run are kept from the last results when their settings
    are still the ones the recipe gives (folds are the same: data.seed is the preset's), so one architecture
    can be re-measured beside the others.
    """
    path_json = RESULTS / "bench_text.json"
    kept = json.loads(path_json.read_text()).get("dropdown", {}) if path_json.is_file() else {}
    out: dict[str, dict[str, dict]] = {}
    for dataset, path in DATASETS.items():
        rows: dict[str, dict] = {}
        for arch in DROPDOWN:
            recipe = base_recipe(path).updated({"model.arch": arch})
            settings = {k: v for k, v in recipe.to_dict()["model"].items() if k not in ("adapter",)}
            train = {k: v for k, v in recipe.to_dict()["train"].items()
                     if k in ("lr", "batch_size", "epochs", "scheduler", "weight_decay")}
            if only and arch not in only:
                old = kept.get(dataset, {}).get(arch)
                if old and old["settings"] == settings and old["train"] == train and len(old["folds"]) == folds:
                    rows[arch] = old
                continue
            accs: list[float] = []
            t0 = time.perf_counter()
            for i, bundle in kfold_bundles(recipe, folds):
                trainer = make_trainer(recipe, bundle)
                trainer.fit()
                accs.append(evaluate_model(trainer.model, bundle, "test", ["accuracy"]).metrics["accuracy"])
                print(f"{dataset} fold {i}: {arch:<18} acc {accs[-1]:.3f}", flush=True)
            rows[arch] = {"accuracy_mean": float(np.mean(accs)), "accuracy_std": float(np.std(accs, ddof=1)),
                          "folds": accs, "seconds": time.perf_counter() - t0, "settings": settings, "train": train}
        if "text_bow" in rows:
            for r in rows.values():
                d = np.subtract(r["folds"], rows["text_bow"]["folds"])
                r["minus_text_bow"] = {"mean": float(d.mean()), "std": float(d.std(ddof=1))}
        out[dataset] = rows
        merge_results({"dropdown": {**kept, **out}})
    print(f"\n{'dataset':<8} {'architecture (from the dropdown)':<34} {'accuracy':>14} {'vs text_bow':>16}")
    for dataset, rows in out.items():
        for arch, r in rows.items():
            diff = r.get("minus_text_bow", {"mean": 0.0, "std": 0.0})
            print(f"{dataset:<8} {arch:<34} {100 * r['accuracy_mean']:6.1f} ± {100 * r['accuracy_std']:4.1f} % "
                  f"{100 * diff['mean']:+6.1f} ± {100 * diff['std']:3.1f}")


def merge_results(part: dict) -> None:
    """Write ``part`` into bench_text.json, keeping the other parts' results."""
    path = RESULTS / "bench_text.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps({**old, **part}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=("models", "dropdown", "all"), default="all")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated model names")
    parser.add_argument("--max-folds", type=int, default=0, help="stop after this many folds (quick checks)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.part in ("dropdown", "all"):
        dropdown(args.folds, [a for a in args.only.split(",") if a])
    if args.part == "dropdown":
        return
    chosen = [n for n in ["tfidf+lr", *variants()] if not args.only or n in args.only.split(",")]
    per: dict[str, list[dict[str, float]]] = {n: [] for n in chosen}
    for i, bundle in kfold_bundles(base_recipe(), args.folds):
        if args.max_folds and i >= args.max_folds:
            break
        for name in chosen:
            res = tfidf_fold(bundle) if name == "tfidf+lr" else run_fold(name, variants()[name], bundle)
            per[name].append(res)
            print(f"fold {i}: {name:<40} acc {res['accuracy']:.3f}  epoch {res['epoch_s']:.2f}s  "
                  f"pretrain {res['pretrain_s']:.0f}s", flush=True)
        write(per, args.folds)
    summary = write(per, args.folds)
    for name, d in json.loads((RESULTS / "bench_text.json").read_text())["paired"].items():
        print(f"paired: {name}: {100 * d['mean']:+.1f} ± {100 * d['std']:.1f} points")
    print(f"\n{'model':<40} {'accuracy':>14} {'trainable':>10} {'epoch s':>8} {'pretrain s':>10}")
    for name, s in summary.items():
        print(f"{name:<40} {100 * s['accuracy_mean']:6.1f} ± {100 * s['accuracy_std']:4.1f} % "
              f"{int(s['trainable']):>10,} {s['epoch_s']:8.2f} {s['pretrain_s']:10.0f}")


def write(per: dict[str, list[dict[str, float]]], folds: int) -> dict[str, dict]:
    """Summaries of the folds done so far, written after every fold (a long run leaves partial results)."""
    summary = {}
    for name, rows in per.items():
        if not rows:
            continue
        accs = [r["accuracy"] for r in rows]
        summary[name] = {"accuracy_mean": float(np.mean(accs)),
                         "accuracy_std": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0, "folds": accs,
                         "trainable": rows[0]["trainable"], "total": rows[0]["total"],
                         "epoch_s": float(np.mean([r["epoch_s"] for r in rows])),
                         "pretrain_s": float(np.mean([r["pretrain_s"] for r in rows]))}
    paired = {}
    for a, b in PAIRS:
        if summary.get(a) and summary.get(b) and len(summary[a]["folds"]) == len(summary[b]["folds"]) > 1:
            d = np.subtract(summary[a]["folds"], summary[b]["folds"])
            paired[f"{a} − {b}"] = {"mean": float(d.mean()), "std": float(d.std(ddof=1)), "folds": d.tolist()}
    merge_results({"folds": folds, "folds_done": min(map(len, per.values())), "results": summary, "paired": paired})
    return summary


if __name__ == "__main__":
    main()
