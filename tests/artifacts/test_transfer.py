"""The comparison rows of scratch, fine-tuned and LoRA runs: read from what each run recorded."""

import lepton_nb as lnb
from lepton_nb.artifacts import Run
from lepton_nb.artifacts.transfer import is_transfer, start_of, transfer_row
from lepton_nb.training.history import History


def _run(changes=None, extras=None, tmp=None):
    recipe = lnb.Recipe.preset("sentiment").updated(changes or {})
    return Run(recipe, tmp, History(), None, None, None, None, "completed", seconds=12.34, extras=extras or {})


def test_start_names_where_the_weights_came_from_and_what_trained():
    assert start_of(lnb.Recipe.preset("sentiment")) == "from scratch, all weights"
    enc = {"model.init_from": "runs/enc"}
    assert start_of(lnb.Recipe.preset("sentiment").updated(enc)) == "pretrained encoder, all weights"
    head = lnb.Recipe.preset("sentiment").updated({**enc, "model.freeze": "features"})
    assert start_of(head) == "pretrained encoder, head only"
    lora = head.updated({"model.adapter.kind": "lora", "model.adapter.r": 4, "model.adapter.targets": ["q", "v"]})
    assert start_of(lora) == "pretrained encoder, LoRA r=4 on q, v + head"
    only = lora.updated({"model.freeze": "all_but_adapters"})
    assert start_of(only) == "pretrained encoder, LoRA r=4 on q, v"
    assert start_of(lnb.Recipe.preset("sentiment"), pretraining=True).startswith("pretraining")


def test_rows_use_the_recorded_parameters_metrics_and_checkpoint(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"x" * 2_500_000)
    run = _run({"model.init_from": "runs/enc", "model.freeze": "features"},
               {"parameters": {"trainable": 130, "total": 13000}, "test_metrics": {"accuracy": 0.8125}}, tmp_path)
    row = transfer_row(run)
    assert row == {"run": tmp_path.name, "start": "pretrained encoder, head only", "trainable": "130",
                   "share": "1.0 %", "accuracy": "81.2 %", "time": "12.3 s", "checkpoint": "2.50 MB"}
    assert is_transfer(run) and not is_transfer(_run())
    pre = _run(extras={"pretrain": {"masked_accuracy": 0.4}, "parameters": {"trainable": 10, "total": 10}})
    assert transfer_row(pre)["accuracy"] == "40.0 % (masked tokens)" and is_transfer(pre)
    bare = transfer_row(_run())  # an old run without records: dashes, never invented numbers
    assert (bare["trainable"], bare["share"], bare["accuracy"], bare["checkpoint"]) == ("–", "–", "–", "–")
