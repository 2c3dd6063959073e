"""LEPTON_NB_MAX_EPOCHS shortens runs for quick checks, and says so: a capped notebook never passes for the real one."""

from __future__ import annotations

import warnings

import pytest

import lepton_nb as lnb
from lepton_nb.workflows import as_recipe


def test_a_capped_recipe_warns_and_an_uncapped_one_does_not(monkeypatch):
    monkeypatch.setenv("LEPTON_NB_MAX_EPOCHS", "2")
    with pytest.warns(UserWarning, match="LEPTON_NB_MAX_EPOCHS=2 caps every run at 2 epoch"):
        assert as_recipe(lnb.Recipe.default()).train.epochs == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert as_recipe(lnb.Recipe.default().updated({"train.epochs": 2})).train.epochs == 2  # nothing to cap
        monkeypatch.delenv("LEPTON_NB_MAX_EPOCHS")
        assert as_recipe(lnb.Recipe.default()).train.epochs == lnb.Recipe.default().train.epochs
