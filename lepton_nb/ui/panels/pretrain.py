"""The Training tab's transfer step: pretrain a text transformer on unlabeled text, then fine-tune it.

Pretraining is a run of its own (masked-token prediction, `lepton_nb.pretrain`): it trains where runs train,
its loss and accuracy are the live monitor's curves, and it is listed in Runs. When it has finished, the
fine-tune choice writes the encoder's folder into ``model.init_from`` and sets ``model.freeze`` and
``model.adapter``, so the recipe the panels show is the one Start trains.
"""

from __future__ import annotations

import html

import ipywidgets as W

from ...artifacts import Run, RunFolder
from ...errors import LeptonError
from ...recipe import ARCHS, DATA_KINDS, Recipe
from ..access import labelled
from ..context import StudioContext
from ..forms import button
from ..render import MUTED, error_html

FINE_TUNE = {  # choice → (label, model.freeze, model.adapter.kind, what trains)
    "scratch": ("from scratch (no pretrained encoder)", "none", "none",
                "every weight starts random and trains on the labelled sentences"),
    "full": ("full fine-tuning", "none", "none",
             "the encoder starts pretrained and every weight trains, the new head too"),
    "head": ("head only (encoder frozen)", "features", "none",
             "the pretrained encoder stays fixed; only the classifier head trains"),
    "lora": ("LoRA adapters + head", "features", "lora",
             "the pretrained encoder stays fixed; low-rank adapters on the attention's q and v and on the word "
             "embedding, and the head, train (the Model tab shows how many parameters that is)"),
}
# q, v as in the LoRA paper, and the word embedding: pretrained on a few hundred sentences, a frozen embedding
# held LoRA about 5 points below full fine-tuning; with its adapter LoRA is 2 points above (benchmarks/bench_text.py)
LORA_TARGETS = ["q", "v", "embedding"]


def not_applicable(recipe: Recipe) -> str:
    """Why this recipe cannot be pretrained ('' when it can)."""
    if not DATA_KINDS[recipe.kind].tokens:
        return f"pretraining predicts masked words of text; this data ({recipe.data.source}) is {recipe.kind}"
    if not ARCHS[recipe.model.arch].encoder:
        encoders = " or ".join(name for name, arch in ARCHS.items() if arch.encoder)
        return (f"pretraining needs the {encoders} model (the Model tab's arch is {recipe.model.arch}); "
                "choose it there to pretrain")
    return ""


def mode_of(recipe: Recipe) -> str:
    """The fine-tune choice the Model tab's fields amount to."""
    m = recipe.model
    if not m.init_from:
        return "scratch"
    if m.adapter.kind == "lora":
        return "lora"
    return "head" if m.freeze == "features" else "full"


class PretrainStep:
    """Pretrain on unlabeled text (its settings, a button, the result), then choose how to fine-tune."""

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.encoder = ""  # the folder of the last finished pretraining run
        self.ready = ""  # what the status says about it
        self._following = False  # True while the choice is set from the fields (not by the user)
        self.button = button("Pretrain on unlabeled text", icon="book",
                             tooltip="Masked-token prediction on the train split's sentences (labels unused), "
                                     "or on pretrain.path; live curves in the monitor above")
        self.status = W.HTML()
        self.mode = labelled(W.Dropdown(options=[(v[0], k) for k, v in FINE_TUNE.items()], value="scratch",
                                        disabled=True, layout=W.Layout(width="auto")), "fine-tune", label_width=None,
                             input_width=None)
        self.mode_note = W.HTML()
        self.button.on_click(lambda _: self.start())
        self.mode.observe(lambda change: self.apply(change["new"]), names="value")
        intro = W.HTML(f"<p style='{MUTED}'>Step 1: the transformer learns the language by predicting hidden "
                       "words of sentences without their labels. Step 2: fine-tune it on the labels with ▶ Start, "
                       "fully, head only, or with LoRA adapters; compare the three in Runs.</p>")
        self.box = W.VBox([W.HTML("<h4>Pretrain, then fine-tune</h4>"), intro, ctx.form.sections["pretrain"].box,
                           self.button, self.status, self.mode, self.mode_note])
        ctx.form.follow(self.box, "pretrain")  # shown only where the recipe's pretrain section applies (text)
        ctx.form.on_change(lambda recipe, _problems: self.refresh(recipe))
        self.refresh(ctx.recipe)

    def refresh(self, recipe: Recipe | None) -> None:
        """Enable the step for a text transformer; otherwise say why it does not apply. The fine-tune choice
        follows the Model tab's fields, also when they are edited by hand."""
        reason = not_applicable(recipe) if recipe is not None else "fix the recipe first"
        self.button.disabled = bool(reason)
        shown = mode_of(recipe) if recipe is not None else self.mode.value
        if shown != self.mode.value:
            self._following = True
            try:
                self.mode.value = shown
            finally:
                self._following = False
            self.mode_note.value = "" if shown == "scratch" else self.mode_note.value
        if reason:
            self.status.value = f"<span style='{MUTED}'>{html.escape(reason)}.</span>"
        elif "lnb-error" not in self.status.value:
            self.status.value = self.ready  # what the last pretraining left ('' before one)

    def start(self) -> bool:
        """Start pretraining the panels' recipe (as the button does); False with the reason when refused."""
        recipe = self.ctx.form.validate()
        reason = not_applicable(recipe) if recipe is not None else "fix the recipe first"
        if reason:
            self.status.value = error_html(ValueError(f"cannot pretrain: {reason}"))
            return False
        if not self.ctx.start(force=True, stage="pretrain"):
            self.status.value = error_html(ValueError(f"cannot pretrain: {self.ctx.job_message}"))
            return False
        source = recipe.pretrain.path or "the train split's sentences (labels unused)"
        self.status.value = (f"<span style='{MUTED}'>pretraining on {html.escape(source)} for "
                             f"{recipe.pretrain.epochs} epochs… the monitor shows the masked-token loss and "
                             "accuracy</span>")
        return True

    def finished(self, run: Run | None) -> None:
        """After a run ends: a pretraining run's encoder becomes the one to fine-tune from."""
        if run is None or "pretrain" not in run.extras:
            return
        if run.dir is None or run.status not in ("completed", "stopped", "early_stopped"):
            self.status.value = error_html(ValueError(f"pretraining ended {run.status}: {run.message}; the "
                                                      "encoder cannot be used"))
            return
        try:
            RunFolder(run.dir).checkpoint("auto", field="model.init_from")
        except LeptonError as exc:  # e.g. train.checkpoint off: nothing to transfer
            self.status.value = error_html(exc)
            return
        self.encoder = str(run.dir)
        final = run.extras["pretrain"]
        acc = final.get("masked_accuracy")
        name = f"encoder ready: <code>{html.escape(run.name)}</code>"
        if acc is not None:
            name += (f" — masked-token accuracy <b>{100 * acc:.1f} %</b> after {run.epochs_done} epochs on "
                     f"{run.extras.get('sentences', 0):,} sentences ({run.status}). Choose how to fine-tune, "
                     "then ▶ Start.")
        self.status.value = self.ready = name
        self.mode.disabled = False
        if self.mode.value == "full":
            self.apply("full")  # a new encoder: the recipe points at it
        else:
            self.mode.value = "full"

    def apply(self, mode: str) -> None:
        """Write the fine-tuning choice into the Model panel's fields (init_from, freeze, adapter)."""
        if self._following:  # the choice shows what the fields say: nothing to write
            return
        label, freeze, adapter, trains = FINE_TUNE[mode]
        controls = self.ctx.form.controls()
        controls["model.init_from"].set("" if mode == "scratch" else self.encoder)
        controls["model.adapter.kind"].set(adapter)  # first: the adapter kind brings its own freeze default
        controls["model.freeze"].set(freeze)
        if adapter == "lora":
            controls["model.adapter.targets"].set(LORA_TARGETS)
        self.mode_note.value = f"<span style='{MUTED}'>{html.escape(label)}: {html.escape(trains)}.</span>"
