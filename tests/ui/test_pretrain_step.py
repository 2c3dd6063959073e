"""The Training tab's transfer step: pretrain in the studio with live masked-token curves, then fine-tune."""

import time

import lepton_nb as lnb
from lepton_nb.ui.views.live import PRETRAIN_PANELS
from tests.conftest import HANG_S, tiny_recipe, wait_for, write_sentiment
from tests.workflows.test_transformers import text_recipe


def test_pretrain_then_lora_fine_tune_in_the_studio(tmp_path):
    recipe = text_recipe(write_sentiment(tmp_path / "r.tsv"), **{"pretrain.epochs": 3, "pretrain.lr": 1e-2,
                                                                 "pretrain.batch_size": 32, "train.epochs": 2})
    studio = lnb.Studio(recipe, out=tmp_path / "runs", hz=20)
    try:
        assert studio.wait_data(HANG_S) is not None
        step = studio.train_panel.pretrain
        assert not step.button.disabled and step.mode.disabled  # nothing to fine-tune from yet
        pre = studio.pretrain(timeout=HANG_S)
        assert pre is not None and pre.status == "completed" and "pretrain" in pre.extras
        assert studio.monitor.panels == PRETRAIN_PANELS  # masked-token curves, no validation
        assert [round(e["train_loss"], 6) for e in pre.history.epochs] and len(pre.history.epochs) == 3
        assert "encoder ready" in step.status.value and pre.name in step.status.value
        assert not step.mode.disabled and step.mode.value == "full"
        assert studio.recipe.model.init_from == str(pre.dir)  # what Start will train is in the panels
        words = pre.data.vocab.words  # the pretraining run is released when the next one finishes (keep_models)

        step.mode.value = "lora"
        model = studio.recipe.model
        assert (model.init_from, model.freeze, model.adapter.kind) == (str(pre.dir), "features", "lora")
        assert model.adapter.targets == ["q", "v", "embedding"]
        assert studio.data_for(studio.recipe) is None  # its ids come from the encoder's tokenizer: built by the run
        assert studio.start()
        assert studio.wait(HANG_S)
        fine = studio.run
        assert fine.status == "completed" and fine.extras["init"]["loaded"] == ["features"]
        params = fine.extras["parameters"]
        assert 0 < params["trainable"] < params["total"] / 2
        assert fine.data.vocab.words == words  # ids read with the encoder's tokenizer

        studio.runs_panel.relist()
        table = studio.runs_panel.transfer.value
        assert "pretraining: masked tokens" in table
        assert "pretrained encoder, LoRA r=8 on q, v, embedding + head" in table
        assert f"{params['trainable']:,}" in table and " MB" in table

        studio.update({"model.adapter.kind": "none"})  # edited by hand in the Model tab: the choice follows
        # without the adapter, the frozen base LoRA implied goes too (peft's semantics): every weight trains
        assert step.mode.value == "full" and studio.recipe.model.init_from == str(pre.dir)
        studio.update({"model.freeze": "features"})
        assert step.mode.value == "head"
        step.mode.value = "scratch"
        assert (studio.recipe.model.init_from, studio.recipe.model.adapter.kind) == ("", "none")
        assert studio.data_for(studio.recipe) is not None
        step.mode.value = "full"
        assert (studio.recipe.model.init_from, studio.recipe.model.freeze) == (str(pre.dir), "none")
    finally:
        studio.close()


def test_the_step_says_why_it_does_not_apply(tmp_path):
    studio = lnb.Studio(tiny_recipe(), out=None, worker="thread")
    try:
        step = studio.train_panel.pretrain
        assert step.box.layout.display == "none"  # digits have no words to pretrain on: the step is not shown
        assert step.button.disabled and "is image" in step.status.value
        assert not step.start() and "cannot pretrain" in step.status.value
        assert not studio.session.busy and studio.runs_panel.transfer.value == ""
        studio.update({"data.source": "text_tsv", "data.path": str(write_sentiment(tmp_path / "r.tsv")),
                       "model.arch": "text_cnn", "augment.ops": []})
        assert step.box.layout.display == "" and step.button.disabled and "text_transformer" in step.status.value
        studio.update({"model.arch": "text_transformer", "model.embed_dim": 16, "model.heads": 2})
        assert not step.button.disabled
    finally:
        studio.close()


def test_edits_made_while_a_pretraining_is_paused_wait_for_the_next_training_run(tmp_path):
    recipe = text_recipe(write_sentiment(tmp_path / "r.tsv"), **{"pretrain.epochs": 500, "pretrain.batch_size": 8})
    studio = lnb.Studio(recipe, out=None, hz=20, worker="thread")
    try:
        assert studio.wait_data(HANG_S) is not None and studio.pretrain(wait=False) is None
        deadline = time.monotonic() + HANG_S
        while studio.session.state != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        studio.pause()
        while studio.session.state != "paused" and time.monotonic() < deadline:
            time.sleep(0.05)
        lr = studio.session.trainer.cfg.lr
        studio.update({"train.lr": 0.05})
        assert studio.resume() == {}
        assert "not to this pretraining" in studio.monitor.message and "train.lr" in studio.monitor.message
        ticks = studio.live.feed.ticks
        assert wait_for(lambda: studio.live.feed.ticks >= ticks + 2)  # the live view rewrote the message since
        assert "not to this pretraining" in studio.monitor.message  # the note stays while the pretraining runs
        assert studio.session.trainer.cfg.lr == lr and studio.monitor.marks == []  # nothing applied or marked
        assert studio.recipe.train.lr == 0.05  # kept for the fine-tuning
    finally:
        studio.stop()
        studio.close()
