"""Property test: whatever valid recipe is put into the panels, the panels give back exactly that recipe
(order and repeats of augmentation ops included) — the studio trains what the recipe says."""

from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings

from lepton_nb.ui.forms import RecipeForm
from lepton_nb.ui.panels.augment import AugmentPanel
from tests.recipe.test_recipe_properties import recipes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes())
def test_panels_round_trip_any_valid_recipe(recipe):
    form = RecipeForm(recipe, skip={"augment": ("ops",)})
    panel = AugmentPanel(SimpleNamespace(form=form, data=None))
    panel.show_for_kind(recipe.kind)
    form.set_recipe(recipe)
    assert form.validate() == recipe
    assert panel.ops() == recipe.augment.ops
