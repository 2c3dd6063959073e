import pytest

import lepton_nb as lnb
from tests.conftest import tiny_recipe


@pytest.fixture(scope="module")
def digits_run():
    """A trained digits model (about 97 % accuracy) without probes."""
    return lnb.train(lnb.Recipe.default().updated({"interpret.enabled": False, "train.epochs": 6}),
                     progress=False, out=None, report=False)


@pytest.fixture(scope="module")
def wine_run():
    return lnb.train(lnb.Recipe.preset("wine").updated({"train.epochs": 5, "interpret.enabled": False}),
                     progress=False, out=None, report=False)


@pytest.fixture(scope="module")
def text_run(request):
    from tests.conftest import IMDB, need_shared

    need_shared(IMDB)
    recipe = lnb.Recipe.preset("sentiment").updated({"data.path": str(IMDB), "train.epochs": 2,
                                                     "interpret.enabled": False})
    return lnb.train(recipe, progress=False, out=None, report=False)


__all__ = ["tiny_recipe"]
