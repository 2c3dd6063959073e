"""Cross-validation of "pretrain, then fine-tune": the encoder is pretrained again on each fold's training part.

A masked-token encoder pretrained on a recipe's train split has read most sentences of any other split of the
same data (149 of the 160 held-out sentences of the first of 5 folds: the sentiment preset on the IMDb
sentences). Reusing it in every fold
would score the classifier on text its encoder and tokenizer were fitted on. Here each fold repeats what the
pretraining run did — its tokenizer settings, model, ``pretrain`` settings and seed — on that fold's training
sentences only (plus the run's own ``pretrain.path`` text, if it had some), and fine-tunes from that encoder:
the score is the pipeline's, on sentences no step has read. It costs one pretraining per fold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from torch import nn

from ..data import DataBundle
from ..data.pretrain import MaskTokens, corpus_bundle
from ..data.subword import SubwordVocab, fit_tokens
from ..data.text import Vocab
from ..errors import ModelError
from ..models import build_masked_lm_model, build_model
from ..models.adapters import base_key, is_adapter_key
from ..recipe import Recipe
from ..training.control import Control
from ..training.observers import Observers
from .plan import RunOptions, RunPlan
from .pretraining import pretrain_settings
from .source_text import SourceText


def fold_tokenizer(source: SourceText) -> Callable[[list[str]], Vocab | SubwordVocab]:
    """Fits the tokenizer the pretraining run fitted, on a fold's training sentences (and its own extra text)."""
    cfg = source.recipe.data

    def fit(train_texts: list[str]) -> Vocab | SubwordVocab:
        return fit_tokens(source.external + train_texts, cfg.tokenizer, cfg.max_vocab, cfg.min_freq)

    return fit


def pretrained_fold_model(recipe: Recipe, source: SourceText, fold: DataBundle,
                          control: Control | None = None) -> nn.Module:
    """The recipe's classifier for one fold, its features from an encoder pretrained on that fold's training
    sentences as the source run pretrained (its freezing is applied by the fold's plan)."""
    if fold.vocab is None:
        raise ModelError("model.init_from", recipe.model.init_from, "pretraining needs text with a tokenizer; "
                         "allowed: a text recipe")
    corpus = source.external + list(fold.train.texts or [])
    data = corpus_bundle(corpus, fold.vocab, recipe.data.max_len, recipe.data.source, "the fold's training part")
    settings = pretrain_settings(source.recipe)
    encoder = build_masked_lm_model(source.recipe.model, data.spec(), seed=settings.seed)
    plan = RunPlan(source.recipe, settings, data, Observers(control=control if control is not None else Control()),
                   options=RunOptions(out=None, model=encoder), probes=False,
                   steps=[MaskTokens(data.vocab, source.recipe.pretrain.mask_prob, settings.seed)])
    plan.trainer(encoder).fit()
    weights = {k: v for k, v in encoder.state_dict().items() if k.startswith("features.")}
    model = build_model(recipe.model, fold.spec(), seed=recipe.train.seed)
    state = model.state_dict()
    wanted = [k for k in state if k.startswith("features.") and not is_adapter_key(k)]
    bad = [k for k in wanted if base_key(k) not in weights or weights[base_key(k)].shape != state[k].shape]
    if bad:
        raise ModelError("model.init_from", recipe.model.init_from, f"its encoder does not fit this model ({bad[0]}); "
                         "allowed: a pretraining run of the same model.arch, embed_dim, heads, depth and hidden")
    state.update({k: weights[base_key(k)] for k in wanted})
    model.load_state_dict(state)
    return model


def without_init(recipe: Recipe) -> Recipe:
    """The recipe with ``model.init_from`` emptied (its weights come from the fold's own pretraining)."""
    return dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, init_from=""))
